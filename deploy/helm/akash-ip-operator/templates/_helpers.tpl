{{/* The chart's name, or nameOverride. */}}
{{- define "akash-ip-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name alone when it already holds the chart's name. */}}
{{- define "akash-ip-operator.fullname" -}}
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

{{- define "akash-ip-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "akash-ip-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "akash-ip-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "akash-ip-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: provider
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "akash-ip-operator.serviceAccountName" -}}
{{- default (include "akash-ip-operator.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* Cluster-scoped names carry the release namespace too, so two installs never share RBAC objects. */}}
{{- define "akash-ip-operator.clusterRoleName" -}}
{{- printf "%s-%s" .Release.Namespace (include "akash-ip-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The webhook's Service, and the MutatingWebhookConfiguration the operator writes (cluster-scoped, so per install). */}}
{{- define "akash-ip-operator.webhookServiceName" -}}
{{- printf "%s-webhook" (include "akash-ip-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "akash-ip-operator.webhookConfigurationName" -}}
{{- printf "%s-leased-ips" (include "akash-ip-operator.clusterRoleName" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "akash-ip-operator.stateClaimName" -}}
{{- default (printf "%s-state" (include "akash-ip-operator.fullname" .)) .Values.state.persistence.existingClaim }}
{{- end }}
