#!/usr/bin/env bash
# Fetches jSMPP 3.0.2 (and slf4j) from Maven Central and compiles the compatibility ESME of
# test/integration/smpp/compat/JsmppEsme.java, cached outside the repository. Prints the
# classpath to run it with. Needs java/javac and mvn (hack/deps.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/test/integration/smpp/compat/JsmppEsme.java
cache=${XDG_CACHE_HOME:-$HOME/.cache}/smpp-operator/jsmpp-3.0.2
stamp=$cache/built-$(sha256sum "$src" | cut -c1-16)
repo=${MAVEN_REPO:-$HOME/.m2/repository}
jars=("$repo/org/jsmpp/jsmpp/3.0.2/jsmpp-3.0.2.jar" "$repo/org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar"
  "$repo/org/slf4j/slf4j-nop/1.7.36/slf4j-nop-1.7.36.jar")
cp="$cache/classes:$cache/lib/*"
if [ -f "$stamp" ]; then echo "$cp"; exit 0; fi
for a in org.jsmpp:jsmpp:3.0.2 org.slf4j:slf4j-api:1.7.36 org.slf4j:slf4j-nop:1.7.36; do
  mvn -q -B dependency:get -Dartifact="$a" -Dtransitive=false >&2
done
rm -rf "$cache" && mkdir -p "$cache/lib" "$cache/classes"
cp "${jars[@]}" "$cache/lib/"
javac -nowarn -d "$cache/classes" -cp "$cache/lib/*" "$src" >&2
touch "$stamp"
echo "$cp"
