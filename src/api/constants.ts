export const GROUP = 'smpp.omnimessage.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const CLIENT_BIND_KIND = 'SmppClientBind';
export const SERVER_BIND_KIND = 'SmppServerBind';
export type BindKind = typeof CLIENT_BIND_KIND | typeof SERVER_BIND_KIND;

/** Plural resource names, as used in API paths and RBAC rules. */
export const CLIENT_BIND_PLURAL = 'smppclientbinds';
export const SERVER_BIND_PLURAL = 'smppserverbinds';

/** Changing this annotation's value (any value, conventionally a timestamp) forces a rebind: the UI's "Reconnect". */
export const RECONNECT_ANNOTATION = `${GROUP}/reconnect`;

/** Standalone manifests without metadata.namespace land here, as `kubectl apply` would with a default context. */
export const DEFAULT_NAMESPACE = 'default';
