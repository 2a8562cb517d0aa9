/**
 * The operator's Helm chart (deploy/helm/akash-ip-operator) through the real `helm` CLI, built by
 * scripts/build-helm.sh: lint, render, and install into the test kube-apiserver (test/k8s/harness), which
 * must accept every object. No kubelet runs there, so the operator's pod never starts: what is checked is
 * the objects the chart makes and what the server grants its ServiceAccount.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { createHttpsGateway, type KubeGateway } from '../../src/k8s/index.js';
import { eventually, startCluster, type TestCluster } from './cluster.js';

const HELM_BUILD_SCRIPT = 'scripts/build-helm.sh';
const HELM = resolve('.cache/helm/current/helm');
const CHART = resolve('deploy/helm/akash-ip-operator');
const PROVIDER = 'akash1l8d20gprd8ymn5ghlfk3v3agjgfhfvr6agenvq';
const RELEASE = 'akash-ip-operator';
const NAMESPACE = 'akash-services';
/** The chart's full name for RELEASE (the release name already holds the chart's name). */
const FULLNAME = 'akash-ip-operator';
const SERVICE_ACCOUNT = `system:serviceaccount:${NAMESPACE}:${FULLNAME}`;

/** The operator's MutatingWebhookConfiguration for RELEASE in NAMESPACE (cluster-scoped: per install). */
const WEBHOOK_CONFIGURATION = `${NAMESPACE}-${FULLNAME}-leased-ips`;

/** The least privilege the operator needs without the webhook, exactly (reference §2.3 minus what it never does). */
const BASE_RULES = [
  { apiGroups: ['akash.network'], resources: ['providerleasedips'], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: [''],
    resources: ['services'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  { apiGroups: ['metallb.io'], resources: ['ipaddresspools'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
];

/** With the webhook (the default): its configuration, by name once created, and pods to report on. */
const WEBHOOK_RULES = [
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['mutatingwebhookconfigurations'],
    verbs: ['create'],
  },
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['mutatingwebhookconfigurations'],
    resourceNames: [WEBHOOK_CONFIGURATION],
    verbs: ['get', 'update', 'patch'],
  },
  { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
];

/** With rollOnFirstAddress only: a lease's workloads, to roll them once. */
const ROLL_RULES = [
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'list', 'patch'] },
];

interface Helm {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

interface Container {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value: string }[];
  ports: { name: string; containerPort: number }[];
  startupProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
}

interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: Record<string, unknown>[];
}

/** helm's own folders, apart from the user's: no repositories, plugins or registry logins leak in. */
const helmHome = mkdtempSync(join(tmpdir(), 'akash-ip-helm-'));

function helm(args: readonly string[], kubeconfig?: string): Promise<Helm> {
  assert.ok(
    existsSync(HELM),
    `helm is not built (${HELM} is missing): run \`bash ${HELM_BUILD_SCRIPT}\` first (\`npm run test:k8s\` does)`,
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: helmHome,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
    // No kubeconfig means none: helm must not fall back to the user's ~/.kube/config.
    KUBECONFIG: kubeconfig ?? join(helmHome, 'no-kubeconfig'),
  };
  return new Promise((done, reject) => {
    const child = spawn(HELM, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

function succeeded(run: Helm, what: string): string {
  assert.equal(run.code, 0, `${what} failed (${run.code}):\n${run.stderr}\n${run.stdout}`);
  return run.stdout;
}

/** `helm template` with the given --set pairs. */
function template(...sets: string[]): Promise<Helm> {
  const args = ['template', RELEASE, CHART, '--namespace', NAMESPACE];
  for (const set of sets) args.push('--set', set);
  return helm(args);
}

/** `helm template` with the given --set pairs, as parsed objects. */
async function render(...sets: string[]): Promise<KubeObject[]> {
  const out = succeeded(await template(...sets), `helm template ${sets.join(' ')}`);
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

function only(objects: readonly KubeObject[], kind: string): KubeObject {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `one ${kind} expected, got ${found.length}`);
  return found[0]!;
}

function podSpecOf(objects: readonly KubeObject[]): PodSpec {
  const deployment = only(objects, 'Deployment') as unknown as { spec: { template: { spec: PodSpec } } };
  return deployment.spec.template.spec;
}

function operatorContainer(objects: readonly KubeObject[]): Container {
  const containers = podSpecOf(objects).containers;
  assert.equal(containers.length, 1);
  return containers[0]!;
}

function envOf(container: Container): Record<string, string> {
  return Object.fromEntries(container.env.map((entry) => [entry.name, entry.value]));
}

/** The REST path of an object (core `v1` under /api, groups under /apis). */
function pathOf(object: KubeObject): string {
  const plural: Record<string, string> = {
    ServiceAccount: 'serviceaccounts',
    Service: 'services',
    Deployment: 'deployments',
    NetworkPolicy: 'networkpolicies',
    ClusterRole: 'clusterroles',
    ClusterRoleBinding: 'clusterrolebindings',
  };
  const resource = plural[object.kind];
  assert.ok(resource !== undefined, `no REST path known for ${object.kind}`);
  const group = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
  const scope = object.metadata.namespace === undefined ? '' : `/namespaces/${object.metadata.namespace}`;
  return `${group}${scope}/${resource}/${object.metadata.name}`;
}

/**
 * Whether `actual` holds everything `expected` says (the server adds defaults and metadata; it must not
 * drop or change what the chart rendered). Returns the first difference's path, or undefined.
 */
function missingFrom(expected: unknown, actual: unknown, path = ''): string | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return path;
    for (const [index, item] of expected.entries()) {
      const difference = missingFrom(item, actual[index], `${path}[${index}]`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return path;
    for (const [key, value] of Object.entries(expected)) {
      const difference = missingFrom(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  return expected === actual ? undefined : path;
}

after(() => rmSync(helmHome, { recursive: true, force: true }));

describe('helm chart akash-ip-operator: lint and render', () => {
  it('is clean under helm lint --strict', async () => {
    const out = succeeded(
      await helm(['lint', '--strict', CHART, '--set', `provider_address=${PROVIDER}`]),
      'helm lint --strict',
    );
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    // --strict turns warnings into failures; an INFO (e.g. a missing icon) is all that may remain.
    assert.doesNotMatch(out, /\[(WARNING|ERROR)\]/);
  });

  it('refuses a missing or malformed provider_address through values.schema.json', async () => {
    const missing = await helm(['template', RELEASE, CHART]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /provider_address/);
    for (const bad of ['cosmos1l8d20gprd8ymn5ghlfk3v3agjgfhfvr6agenvq', 'akash1short', 'akash1L8D20']) {
      const run = await helm(['template', RELEASE, CHART, '--set', `provider_address=${bad}`]);
      assert.notEqual(run.code, 0, `${bad} was accepted`);
      assert.match(run.stderr, /provider_address/);
    }
  });

  it('passes --ip-family and --akash-rest on as AP_IP_FAMILY and AP_AKASH_REST, and refuses others', async () => {
    const container = operatorContainer(
      await render(`provider_address=${PROVIDER}`, 'ip_family=dual', 'akash_rest=https://api.akashnet.net'),
    );
    assert.equal(envOf(container).AP_IP_FAMILY, 'dual');
    assert.equal(envOf(container).AP_AKASH_REST, 'https://api.akashnet.net');
    assert.equal(
      envOf(operatorContainer(await render(`provider_address=${PROVIDER}`))).AP_AKASH_REST,
      undefined,
    );
    for (const bad of ['ip_family=v6', 'akash_rest=ftp://node']) {
      const run = await helm(['template', RELEASE, CHART, '--set', `provider_address=${PROVIDER},${bad}`]);
      assert.notEqual(run.code, 0, `${bad} was accepted`);
      assert.match(run.stderr, /ip_family|akash_rest/);
    }
  });

  it('grants exactly the least privilege the operator needs, the webhook and the roll only when on', async () => {
    const objects = await render(`provider_address=${PROVIDER}`);
    const role = only(objects, 'ClusterRole');
    assert.deepEqual(role.rules, [...BASE_RULES, ...WEBHOOK_RULES]);
    const without = await render(`provider_address=${PROVIDER}`, 'webhook.enabled=false');
    assert.deepEqual(only(without, 'ClusterRole').rules, BASE_RULES);
    const rolling = await render(`provider_address=${PROVIDER}`, 'rollOnFirstAddress=true');
    assert.deepEqual(only(rolling, 'ClusterRole').rules, [...BASE_RULES, ...WEBHOOK_RULES, ...ROLL_RULES]);
    const binding = only(objects, 'ClusterRoleBinding') as unknown as {
      roleRef: { kind: string; name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: role.metadata.name,
    });
    const account = only(objects, 'ServiceAccount');
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: account.metadata.name, namespace: NAMESPACE },
    ]);
    assert.equal(podSpecOf(objects).serviceAccountName, account.metadata.name);
  });

  it('exposes the API as Service operator-ip, port "rest", where the Go provider looks for it', async () => {
    const objects = await render(`provider_address=${PROVIDER}`, 'webhook.enabled=false');
    const service = only(objects, 'Service') as unknown as KubeObject & {
      spec: { type: string; selector: Record<string, string>; ports: unknown[] };
    };
    assert.equal(service.metadata.name, 'operator-ip');
    assert.equal(service.metadata.namespace, NAMESPACE);
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.ports, [{ name: 'rest', port: 8080, targetPort: 'rest', protocol: 'TCP' }]);
    const deployment = only(objects, 'Deployment') as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    assert.equal(missingFrom(service.spec.selector, deployment.spec.template.metadata.labels), undefined);
    assert.deepEqual(operatorContainer(objects).ports, [
      { name: 'rest', containerPort: 8080, protocol: 'TCP' },
    ]);
  });

  it('serves the webhook on container port "webhook" behind a Service of its own, and tells the operator where', async () => {
    const objects = await render(
      `provider_address=${PROVIDER}`,
      'webhook.port=9443',
      'webhook.timeoutSeconds=5',
      'rollOnFirstAddress=true',
    );
    const services = objects.filter((object) => object.kind === 'Service') as unknown as (KubeObject & {
      spec: { selector: Record<string, string>; ports: unknown[] };
    })[];
    assert.deepEqual(
      services.map((service) => service.metadata.name),
      ['operator-ip', `${FULLNAME}-webhook`],
    );
    const [api, webhook] = services;
    assert.deepEqual(api?.spec.ports, [{ name: 'rest', port: 8080, targetPort: 'rest', protocol: 'TCP' }]);
    assert.deepEqual(webhook?.spec.ports, [
      { name: 'webhook', port: 443, targetPort: 'webhook', protocol: 'TCP' },
    ]);
    assert.deepEqual(webhook?.spec.selector, api?.spec.selector);
    const container = operatorContainer(objects);
    assert.deepEqual(container.ports, [
      { name: 'rest', containerPort: 8080, protocol: 'TCP' },
      { name: 'webhook', containerPort: 9443, protocol: 'TCP' },
    ]);
    const env = envOf(container);
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(env).filter(([name]) => name.includes('WEBHOOK') || name.includes('ROLL')),
      ),
      {
        AP_WEBHOOK_PORT: '9443',
        AP_WEBHOOK_SERVICE_NAME: `${FULLNAME}-webhook`,
        AP_WEBHOOK_SERVICE_NAMESPACE: NAMESPACE,
        AP_WEBHOOK_SERVICE_PORT: '443',
        AP_WEBHOOK_CONFIGURATION_NAME: WEBHOOK_CONFIGURATION,
        AP_WEBHOOK_TIMEOUT_SECONDS: '5',
        AP_ROLL_ON_FIRST_ADDRESS: 'true',
      },
    );
    assert.equal(
      envOf(operatorContainer(await render(`provider_address=${PROVIDER}`))).AP_ROLL_ON_FIRST_ADDRESS,
      'false',
    );

    // Off: no Service, no port, no variable; and no roll without the webhook that would inject the address.
    const off = await render(`provider_address=${PROVIDER}`, 'webhook.enabled=false');
    assert.equal(off.filter((object) => object.kind === 'Service').length, 1);
    assert.ok(
      Object.keys(envOf(operatorContainer(off))).every(
        (name) => !name.includes('WEBHOOK') && !name.includes('ROLL'),
      ),
    );
    const refused = await template(
      `provider_address=${PROVIDER}`,
      'webhook.enabled=false',
      'rollOnFirstAddress=true',
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /rollOnFirstAddress needs webhook\.enabled/);
    for (const bad of ['webhook.timeoutSeconds=0', 'webhook.timeoutSeconds=31', 'webhook.port=0']) {
      const run = await template(`provider_address=${PROVIDER}`, bad);
      assert.notEqual(run.code, 0, `${bad} was accepted`);
    }
  });

  it('runs one non-root operator at a time, with its probes, flags and AP_* environment', async () => {
    const objects = await render(
      `provider_address=${PROVIDER}`,
      'webhook.enabled=false',
      'metal_lb_pools={pool-a,pool-b}',
      'k8s_manifest_ns=leases',
      'rest_port=9090',
    );
    const deployment = only(objects, 'Deployment') as unknown as {
      spec: { replicas: number; strategy: { type: string } };
    };
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.strategy, { type: 'Recreate' });
    const container = operatorContainer(objects);
    assert.equal(container.image, 'akash-ip:0.1.0');
    assert.deepEqual(container.args, ['--metal-lb-pool=pool-a', '--metal-lb-pool=pool-b']);
    assert.deepEqual(envOf(container), {
      AP_PROVIDER: PROVIDER,
      AP_K8S_MANIFEST_NS: 'leases',
      AP_METALLB_NAMESPACE: 'metallb-system',
      AP_REST_PORT: '9090',
      AP_IP_FAMILY: 'ipv4',
    });
    assert.deepEqual(container.ports, [{ name: 'rest', containerPort: 9090, protocol: 'TCP' }]);
    assert.deepEqual(container.startupProbe.httpGet, { path: '/health', port: 'rest' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'rest' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/health', port: 'rest' });
    assert.equal(podSpecOf(objects).securityContext.runAsNonRoot, true);
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('keeps no local state by default, and puts it on an emptyDir or a claim when asked', async () => {
    const stateless = await render(`provider_address=${PROVIDER}`);
    assert.equal(envOf(operatorContainer(stateless)).AP_STATE, undefined);
    assert.equal(
      stateless.some((object) => object.kind === 'PersistentVolumeClaim'),
      false,
    );

    const scratch = await render(`provider_address=${PROVIDER}`, 'state.enabled=true');
    assert.equal(envOf(operatorContainer(scratch)).AP_STATE, '/var/lib/akash-ip/operator.sqlite');
    assert.deepEqual(
      podSpecOf(scratch).volumes.find((volume) => volume.name === 'state'),
      { name: 'state', emptyDir: {} },
    );

    const persistent = await render(
      `provider_address=${PROVIDER}`,
      'state.enabled=true',
      'state.persistence.enabled=true',
    );
    const claim = only(persistent, 'PersistentVolumeClaim');
    assert.deepEqual(
      podSpecOf(persistent).volumes.find((volume) => volume.name === 'state'),
      { name: 'state', persistentVolumeClaim: { claimName: claim.metadata.name } },
    );
    assert.ok(
      operatorContainer(persistent).volumeMounts.some(
        (mount) => mount.name === 'state' && mount.mountPath === '/var/lib/akash-ip',
      ),
    );
  });

  it('admits API callers from akash-services only, unless the NetworkPolicy is turned off', async () => {
    const objects = await render(`provider_address=${PROVIDER}`);
    const policy = only(objects, 'NetworkPolicy') as unknown as {
      spec: { podSelector: { matchLabels: Record<string, string> }; ingress: unknown[] };
    };
    const rest = {
      ports: [{ port: 'rest', protocol: 'TCP' }],
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACE } } }],
    };
    // The apiserver calls the webhook from where no selector can name it: that port is open to any source.
    assert.deepEqual(policy.spec.ingress, [rest, { ports: [{ port: 'webhook', protocol: 'TCP' }] }]);
    const withoutWebhook = await render(`provider_address=${PROVIDER}`, 'webhook.enabled=false');
    assert.deepEqual(
      (only(withoutWebhook, 'NetworkPolicy') as unknown as { spec: { ingress: unknown[] } }).spec.ingress,
      [rest],
    );
    const off = await render(`provider_address=${PROVIDER}`, 'networkPolicy.enabled=false');
    assert.equal(
      off.some((object) => object.kind === 'NetworkPolicy'),
      false,
    );
    // An empty allow list would admit everyone: the chart refuses it.
    const open = await helm([
      'template',
      RELEASE,
      CHART,
      '--set',
      `provider_address=${PROVIDER}`,
      '--set',
      'networkPolicy.allowedNamespaces=null',
    ]);
    assert.notEqual(open.code, 0);
    assert.match(open.stderr, /would let anyone call the API/);
  });
});

describe('helm chart akash-ip-operator: install into a real kube-apiserver', () => {
  let cluster: TestCluster;
  let gateway: KubeGateway;
  let rendered: KubeObject[];

  async function get(path: string): Promise<{ status: number; body: unknown }> {
    const answer = await gateway.request({ method: 'GET', path });
    if (!answer.ok) assert.fail(`${answer.error.code}: ${answer.error.message}`);
    return answer.value;
  }

  /** What the apiserver's RBAC authorizer answers for the operator's ServiceAccount. */
  async function allowed(
    verb: string,
    group: string,
    resource: string,
    namespace?: string,
    name?: string,
  ): Promise<boolean> {
    const answer = await gateway.request({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: SERVICE_ACCOUNT,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'],
          resourceAttributes: {
            verb,
            group,
            resource,
            ...(namespace === undefined ? {} : { namespace }),
            ...(name === undefined ? {} : { name }),
          },
        },
      },
    });
    if (!answer.ok) assert.fail(`${answer.error.code}: ${answer.error.message}`);
    assert.equal(answer.value.status, 201, JSON.stringify(answer.value.body));
    return (answer.value.body as { status: { allowed: boolean } }).status.allowed;
  }

  before(async () => {
    cluster = await startCluster();
    gateway = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
    rendered = await render(`provider_address=${PROVIDER}`);
  });

  after(async () => {
    gateway?.close();
    await cluster?.stop();
  });

  it('installs: the apiserver accepts every object as rendered', async () => {
    succeeded(
      await helm(
        [
          'install',
          RELEASE,
          CHART,
          '--namespace',
          NAMESPACE,
          '--create-namespace',
          '--set',
          `provider_address=${PROVIDER}`,
        ],
        cluster.kubeconfig,
      ),
      'helm install',
    );
    const status = JSON.parse(
      succeeded(await helm(['status', RELEASE, '-n', NAMESPACE, '-o', 'json'], cluster.kubeconfig), 'status'),
    ) as { info: { status: string } };
    assert.equal(status.info.status, 'deployed');
    assert.deepEqual(rendered.map((object) => object.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'NetworkPolicy',
      'Service',
      'Service',
      'ServiceAccount',
    ]);
    for (const object of rendered) {
      const stored = await get(pathOf(object));
      assert.equal(
        stored.status,
        200,
        `${object.kind} ${object.metadata.name}: ${JSON.stringify(stored.body)}`,
      );
      const { apiVersion: _apiVersion, kind: _kind, ...content } = object;
      const difference = missingFrom(content, stored.body);
      assert.equal(difference, undefined, `${object.kind} ${object.metadata.name} differs at ${difference}`);
    }
    const service = (await get(`/api/v1/namespaces/${NAMESPACE}/services/operator-ip`)).body as {
      spec: { clusterIP: string };
    };
    assert.match(service.spec.clusterIP, /^203\.0\.113\.|^2001:db8:/);
  });

  it("gives the operator's ServiceAccount what it needs on the server, and nothing it must not have", async () => {
    const grants: [
      verb: string,
      group: string,
      resource: string,
      namespace: string | undefined,
      ok: boolean,
    ][] = [
      ['watch', 'akash.network', 'providerleasedips', 'lease', true],
      ['create', 'akash.network', 'providerleasedips', 'lease', false],
      ['delete', 'akash.network', 'providerleasedips', 'lease', false],
      ['watch', '', 'services', undefined, true],
      ['create', '', 'services', 'lease-ns', true],
      ['patch', '', 'services', 'lease-ns', true],
      ['delete', '', 'services', 'lease-ns', true],
      ['deletecollection', '', 'services', 'lease-ns', false],
      ['watch', 'networking.k8s.io', 'networkpolicies', undefined, true],
      ['create', 'networking.k8s.io', 'networkpolicies', 'lease-ns', true],
      ['patch', 'networking.k8s.io', 'networkpolicies', 'lease-ns', true],
      ['delete', 'networking.k8s.io', 'networkpolicies', 'lease-ns', true],
      ['update', 'networking.k8s.io', 'networkpolicies', 'lease-ns', false],
      ['deletecollection', 'networking.k8s.io', 'networkpolicies', 'lease-ns', false],
      ['watch', 'metallb.io', 'ipaddresspools', 'metallb-system', true],
      ['update', 'metallb.io', 'ipaddresspools', 'metallb-system', false],
      ['list', '', 'events', 'lease-ns', true],
      ['list', '', 'events', undefined, true],
      ['watch', '', 'events', undefined, true],
      ['create', '', 'events', 'lease-ns', false],
      ['get', '', 'namespaces', undefined, true],
      ['list', '', 'namespaces', undefined, false],
      ['get', '', 'secrets', NAMESPACE, false],
      ['get', '', 'configmaps', NAMESPACE, false],
      ['get', '', 'pods', NAMESPACE, false],
      ['list', '', 'pods', 'lease-ns', true],
      ['watch', '', 'pods', 'lease-ns', false],
      ['create', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', undefined, true],
      ['list', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', undefined, false],
      ['delete', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations', undefined, false],
      ['patch', 'apps', 'deployments', 'lease-ns', false],
    ];
    // The authorizer reads roles and bindings from caches filled after the install: once every grant shows, a
    // refusal below means the chart does not give it (not that the cache has yet to see a binding).
    await eventually("every grant of the chart seen by the apiserver's authorizer", async () => {
      for (const [verb, group, resource, namespace, ok] of grants) {
        if (ok && !(await allowed(verb, group, resource, namespace))) return undefined;
      }
      return true;
    });
    for (const [verb, group, resource, namespace, ok] of grants) {
      assert.equal(
        await allowed(verb, group, resource, namespace),
        ok,
        `${verb} ${group || 'core'}/${resource}${namespace === undefined ? '' : ` in ${namespace}`}`,
      );
    }
    // Its own MutatingWebhookConfiguration by name, and no other.
    const webhooks = 'mutatingwebhookconfigurations';
    assert.equal(
      await allowed('patch', 'admissionregistration.k8s.io', webhooks, undefined, WEBHOOK_CONFIGURATION),
      true,
    );
    assert.equal(
      await allowed('get', 'admissionregistration.k8s.io', webhooks, undefined, WEBHOOK_CONFIGURATION),
      true,
    );
    assert.equal(
      await allowed('patch', 'admissionregistration.k8s.io', webhooks, undefined, 'someone-elses'),
      false,
    );
    assert.equal(
      await allowed('delete', 'admissionregistration.k8s.io', webhooks, undefined, WEBHOOK_CONFIGURATION),
      false,
    );
  });

  it('uninstalls: every object the chart made is gone', async () => {
    succeeded(await helm(['uninstall', RELEASE, '-n', NAMESPACE], cluster.kubeconfig), 'helm uninstall');
    for (const object of rendered) {
      const stored = await get(pathOf(object));
      assert.equal(stored.status, 404, `${object.kind} ${object.metadata.name} is still there`);
    }
    const list = await helm(['list', '-n', NAMESPACE, '-o', 'json'], cluster.kubeconfig);
    assert.deepEqual(JSON.parse(succeeded(list, 'helm list')), []);
  });
});
