{{/* Platform-owned helpers. Every value comes from .Values; nothing from a manifest is ever passed to tpl. */}}
{{- define "runway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "runway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "runway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "runway.name" . | toJson }}
app.kubernetes.io/instance: {{ .Release.Name | toJson }}
{{- end -}}

{{- define "runway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" | toJson }}
{{ include "runway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | trunc 63 | toJson }}
app.kubernetes.io/managed-by: {{ .Release.Service | toJson }}
app.kubernetes.io/part-of: runway
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "runway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "runway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false (never the default account)" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "runway.image" -}}
{{- $repository := required "image.repository is required: this chart was built without an image; pass --set image.repository=REGISTRY/PATH (and image.tag)" .Values.image.repository -}}
{{- $registry := default .Values.image.registry .Values.global.imageRegistry -}}
{{- $ref := ternary (printf "%s/%s" $registry $repository) $repository (ne $registry "") -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $ref .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .Chart.AppVersion .Values.image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{- /* An auxiliary image (test, registration hook) with global.imageRegistry in place of its registry. */ -}}
{{- define "runway.mirrored" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- if $root.Values.global.imageRegistry -}}
{{- $parts := splitList "/" $image -}}
{{- if gt (len $parts) 1 -}}
{{- $image = printf "%s/%s" $root.Values.global.imageRegistry (join "/" (rest $parts)) -}}
{{- end -}}
{{- end -}}
{{- $image -}}
{{- end -}}

{{- /* Labels of hook pods: never the selector labels, so Services, PDBs and HPAs ignore them. */ -}}
{{- define "runway.hookLabels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" | toJson }}
app.kubernetes.io/instance: {{ $root.Release.Name | toJson }}
app.kubernetes.io/component: {{ index . 1 | toJson }}
app.kubernetes.io/managed-by: {{ $root.Release.Service | toJson }}
app.kubernetes.io/part-of: runway
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "runway.resources" -}}
{{- /* null quantities are "unset": Helm drops them from a chart's own defaults, not from a subchart's */ -}}
{{- $kept := dict -}}
{{- range $kind, $list := .Values.resources -}}
{{- range $name, $quantity := $list -}}
{{- if not (kindIs "invalid" $quantity) }}{{ $_ := set $kept $kind (merge (dict $name $quantity) (get $kept $kind | default dict)) }}{{ end -}}
{{- end -}}
{{- end -}}
{{- toYaml $kept -}}
{{- end -}}

{{- define "runway.imagePullSecrets" -}}
{{- $names := list -}}
{{- range concat .Values.global.imagePullSecrets .Values.imagePullSecrets -}}
{{- if kindIs "map" . }}{{ $names = append $names .name }}{{ else }}{{ $names = append $names . }}{{ end -}}
{{- end -}}
{{- range uniq $names }}
- name: {{ . | toJson }}
{{- end -}}
{{- end -}}

{{- define "runway.podSecurityContext" -}}
{{- $c := .Values.podSecurityContext -}}
runAsNonRoot: true
runAsUser: {{ $c.runAsUser }}
runAsGroup: {{ $c.runAsGroup }}
fsGroup: {{ $c.fsGroup }}
{{- with $c.fsGroupChangePolicy }}
fsGroupChangePolicy: {{ . }}
{{- end }}
{{- with $c.supplementalGroups }}
supplementalGroups: {{ toJson . }}
{{- end }}
{{- with $c.sysctls }}
sysctls: {{ toJson . }}
{{- end }}
{{- with $c.seLinuxOptions }}
seLinuxOptions: {{ toJson . }}
{{- end }}
seccompProfile: {{ include "runway.profile" $c.seccompProfile }}
{{- end -}}

{{- define "runway.hookPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "runway.profile" -}}
{{- if eq .type "Localhost" -}}
{{ dict "type" .type "localhostProfile" .localhostProfile | toJson }}
{{- else -}}
{{ dict "type" .type | toJson }}
{{- end -}}
{{- end -}}

{{- define "runway.containerSecurityContext" -}}
{{- $c := .Values.containerSecurityContext -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: {{ $c.readOnlyRootFilesystem }}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
capabilities:
  drop: ["ALL"]
  {{- with $c.capabilities.add }}
  add: {{ toJson . }}
  {{- end }}
seccompProfile: {{ include "runway.profile" $c.seccompProfile }}
{{- with $c.appArmorProfile.type }}
appArmorProfile: {{ include "runway.profile" $c.appArmorProfile }}
{{- end }}
{{- with $c.seLinuxOptions }}
seLinuxOptions: {{ toJson . }}
{{- end }}
{{- end -}}

{{- define "runway.hookContainerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "runway.hardeningExceptions" -}}
{{- $reasons := dict -}}
{{- range $name, $reason := .Values.hardeningExceptions -}}
{{- if $reason }}{{ $_ := set $reasons $name $reason }}{{ end -}}
{{- end -}}
{{- if $reasons -}}
runway.gitlab.com/hardening-exceptions: {{ toJson $reasons | toJson }}
{{- end -}}
{{- end -}}

{{- define "runway.probe" -}}
{{- $probe := index . 0 -}}
{{- $root := index . 1 -}}
{{- $listener := required (printf "probe port %q is not a listener" $probe.port) (get $root.Values.listeners $probe.port) -}}
{{- if eq $probe.type "http" }}
httpGet:
  path: {{ default "/" $probe.path | toJson }}
  port: {{ $listener.port }}
{{- else if eq $probe.type "grpc" }}
grpc:
  port: {{ $listener.port }}
{{- else }}
tcpSocket:
  port: {{ $listener.port }}
{{- end }}
initialDelaySeconds: {{ $probe.initialDelaySeconds }}
periodSeconds: {{ $probe.periodSeconds }}
timeoutSeconds: {{ $probe.timeoutSeconds }}
failureThreshold: {{ $probe.failureThreshold }}
successThreshold: {{ $probe.successThreshold }}
{{- end -}}

{{- define "runway.checksum" -}}
{{- dict "env" .Values.env "files" .Values.configFiles "overrides" .Values.configOverrides "region" .Values.region "redis" .Values.redis | toJson | sha256sum -}}
{{- end -}}

{{- /* Plain env (with ${region} filled in) as JSON: name → value. Values that refer to other
       variables with $(NAME) are left out: Kubernetes expands those only in the pod's env list. */ -}}
{{- define "runway.plainEnv" -}}
{{- $found := dict -}}
{{- range $key, $value := .Values.env -}}
{{- if not (contains "$(" $value) -}}
{{- $_ := set $found $key (ternary (replace "${region}" $.Values.region $value) $value (ne $.Values.region "")) -}}
{{- end -}}
{{- end -}}
{{- $found | toJson -}}
{{- end -}}

{{- /* A config file's text: content verbatim, or data as YAML with the Redis block filled in. */ -}}
{{- define "runway.configFile" -}}
{{- $file := index . 0 -}}
{{- $root := index . 1 -}}
{{- if $file.data -}}
{{- $data := deepCopy $file.data -}}
{{- with get $root.Values.configOverrides $file.path -}}
{{- $data = mergeOverwrite $data (deepCopy .) -}}
{{- end -}}
{{- if $file.redisKey -}}
{{- $redis := required (printf "config file %s fills %q from redis, but redis is not set" $file.path $file.redisKey) $root.Values.redis -}}
{{- $_ := set $data $file.redisKey (include "runway.redis.kas" $redis | fromJson) -}}
{{- end -}}
{{- toYaml $data -}}
{{- else -}}
{{- $file.content -}}
{{- end -}}
{{- end -}}

{{- /* KAS's redis block (gitlab-agent pkg/kascfg: RedisCF) from the chart's redis values. */ -}}
{{- define "runway.redis.kas" -}}
{{- $block := dict -}}
{{- if .sentinels -}}
{{- $_ := set $block "sentinel" (dict "master_name" (required "redis.masterName is required with redis.sentinels" .masterName) "addresses" .sentinels) -}}
{{- else -}}
{{- $_ := set $block "server" (dict "address" (required "redis.address or redis.sentinels is required" .address)) -}}
{{- end -}}
{{- if .password -}}
{{- $_ := set $block "password_file" (default "/etc/runway/redis/password" .passwordFile) -}}
{{- end -}}
{{- if .database -}}
{{- $_ := set $block "database_index" .database -}}
{{- end -}}
{{- if .tls -}}
{{- $tls := dict "enabled" true -}}
{{- if .caSecret -}}
{{- $_ := set $tls "ca_certificate_file" (default "/etc/runway/redis/ca.crt" .caFile) -}}
{{- end -}}
{{- $_ := set $block "tls" $tls -}}
{{- end -}}
{{- $block | toJson -}}
{{- end -}}

{{- define "runway.redisPasswordFile" -}}
{{- default "/etc/runway/redis/password" .Values.redis.passwordFile -}}
{{- end -}}

{{- define "runway.redisCaFile" -}}
{{- default "/etc/runway/redis/ca.crt" .Values.redis.caFile -}}
{{- end -}}
