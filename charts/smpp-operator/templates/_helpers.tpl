{{/* Chart name, truncated to the 63 characters of a label value. */}}
{{- define "smpp-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name. */}}
{{- define "smpp-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "smpp-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "smpp-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "smpp-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "smpp-operator.labels" -}}
helm.sh/chart: {{ include "smpp-operator.chart" . }}
{{ include "smpp-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: smpp-operator
{{- end }}

{{- define "smpp-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "smpp-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "smpp-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Rules the gateway needs wherever it watches binds: binds, their status and finalizers,
     Secrets they reference, Events about them, and per-bind Leases. */}}
{{- define "smpp-operator.rbacRules" -}}
- apiGroups: [smpp.omnimessage.io]
  resources: [smppclientbinds, smppserverbinds]
  verbs: [get, list, watch, patch, update]
- apiGroups: [smpp.omnimessage.io]
  resources: [smppclientbinds/status, smppserverbinds/status]
  verbs: [get, patch, update]
- apiGroups: [smpp.omnimessage.io]
  resources: [smppclientbinds/finalizers, smppserverbinds/finalizers]
  verbs: [update, patch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, list, watch, create, update, patch, delete]
{{- end }}

{{- define "smpp-operator.metricsServiceName" -}}
{{- printf "%s-metrics" (include "smpp-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Redis that receiptStore.redis.deploy runs: its name and labels (never the gateway's selector). */}}
{{- define "smpp-operator.redisName" -}}
{{- printf "%s-redis" (include "smpp-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "smpp-operator.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "smpp-operator.name" . }}-redis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: receipt-store
{{- end }}

{{/* REDIS_URL: the deployed Redis, or receiptStore.redis.url. */}}
{{- define "smpp-operator.redisUrl" -}}
{{- if .Values.receiptStore.redis.deploy -}}
redis://{{ include "smpp-operator.redisName" . }}.{{ .Release.Namespace }}.svc:6379/0
{{- else -}}
{{ .Values.receiptStore.redis.url }}
{{- end }}
{{- end }}

{{- define "smpp-operator.consoleServiceName" -}}
{{- printf "%s-console" (include "smpp-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
