{{/*
The chart's name, for the app.kubernetes.io/name label.
*/}}
{{- define "entityhub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: the release name, followed by the chart's name
unless the release name holds it already. Release entityhub gives the names
config/default gives (entityhub-controller-manager, entityhub-manager-role, ...).
Object names add up to 35 characters to it (a Service name may have 63), so it is cut at 28.
*/}}
{{- define "entityhub.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 28 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 28 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 28 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "entityhub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "entityhub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the manager's pods: the Deployment's selector, the Services', the
NetworkPolicy's.
*/}}
{{- define "entityhub.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "entityhub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The manager's ServiceAccount.
*/}}
{{- define "entityhub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-controller-manager" (include "entityhub.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The subject of every binding of the manager's roles.
*/}}
{{- define "entityhub.managerSubject" -}}
- kind: ServiceAccount
  name: {{ include "entityhub.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/*
The namespace in which the manager creates CatalogEntities.
*/}}
{{- define "entityhub.catalogNamespace" -}}
{{- default .Release.Namespace .Values.manager.catalogNamespace }}
{{- end }}

{{/*
The namespace of the leader election Lease.
*/}}
{{- define "entityhub.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/*
The namespace of Argo Workflows' controller Lease: the part of
workflows.controllerLease before the slash (argo by default, as in the manager).
*/}}
{{- define "entityhub.workflowsLeaseNamespace" -}}
{{- $lease := default "argo/workflow-controller" .Values.workflows.controllerLease }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[^/]+$" $lease) }}
{{- fail (printf "workflows.controllerLease %q must be <namespace>/<name>" $lease) }}
{{- end }}
{{- first (splitList "/" $lease) }}
{{- end }}

{{/*
Whether the manager reads Argo CD's cluster Secrets, and so gets a Role in each of
argocd.namespaces.
*/}}
{{- define "entityhub.readsArgoCDSecrets" -}}
{{- if eq .Values.argocd.clusterNames "secrets" }}true
{{- else if ne .Values.argocd.clusterNames "none" }}
{{- fail (printf "argocd.clusterNames %q must be secrets or none" .Values.argocd.clusterNames) }}
{{- end }}
{{- end }}

{{/*
Whether to create a ServiceMonitor: asked for, or auto and the cluster serves the kind.
*/}}
{{- define "entityhub.serviceMonitor" -}}
{{- $on := toString .Values.serviceMonitor.enabled }}
{{- if not (has $on (list "auto" "true" "false")) }}
{{- fail (printf "serviceMonitor.enabled %q must be auto, true or false" $on) }}
{{- end }}
{{- if and .Values.metrics.enabled (or (eq $on "true") (and (eq $on "auto") (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor"))) }}true{{ end }}
{{- end }}

{{/*
The manager's image.
*/}}
{{- define "entityhub.image" -}}
{{- printf "%s:%s" .Values.image.repository (toString (default .Chart.AppVersion .Values.image.tag)) }}
{{- end }}
