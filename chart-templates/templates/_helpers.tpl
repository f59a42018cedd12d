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
{{- printf "%s:%s" $ref (default .Chart.AppVersion .Values.image.tag) -}}
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
{{- end -}}

{{- define "runway.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
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
{{- dict "env" .Values.env "files" .Values.configFiles "region" .Values.region | toJson | sha256sum -}}
{{- end -}}
