import type { Command } from '@commander-js/extra-typings';
import { EXIT, exitCode } from '../../errors/index.js';
import type { CliIo } from '../io.js';

const HELP = `
Runs in place of the Akash provider's Go IP operator ("provider-services operator ip"): reads the
provider's ProviderLeasedIP objects and the named MetalLB IPAddressPools, leases addresses, writes the
LoadBalancer Services Go writes (pinned with metallb.io/loadBalancerIPs) and serves Go's HTTP API
(/health /usage /ip-lease-status /state /ignored-leases, plus /metrics /healthz /readyz).

Every flag also reads its AP_* variable (Go's names): AP_PROVIDER, AP_K8S_MANIFEST_NS, AP_METAL_LB_POOL,
AP_REST_PORT, AP_REST_ADDRESS, AP_KUBECONFIG (or KUBECONFIG); ours: AP_METALLB_NAMESPACE, AP_KUBE_CONTEXT,
AP_STATE, AP_QUARANTINE, AP_IP_FAMILY, AP_AKASH_REST, and the webhook's AP_WEBHOOK_PORT, AP_WEBHOOK_URL, AP_WEBHOOK_SERVICE_NAME,
AP_WEBHOOK_SERVICE_NAMESPACE, AP_WEBHOOK_SERVICE_PORT, AP_WEBHOOK_CONFIGURATION_NAME,
AP_WEBHOOK_TIMEOUT_SECONDS, AP_ROLL_ON_FIRST_ADDRESS. Without a kubeconfig, the pod's service account is
used. JSON log lines on stdout.

The leased-IP admission webhook (tenant pods get AKASH_LEASED_IP_<ENDPOINT>) is served when --webhook-port
is set; the apiserver reaches it through --webhook-service-name/-namespace/-port (the chart) or
--webhook-url.

IPv6: --ip-family gives every lease IPv4 (default), IPv6 or both (dual; the named pools must hold that
family, dual both in one pool). With --akash-rest, each new lease's order is read from the chain and its
placement attributes choose, as in daemon mode: ip-lease-ipv6=true dual-stack, ip-lease-ipv6-only=true
IPv6, neither the --ip-family default. A lease whose order cannot be read yet waits (see /state).

Example:
  akash-ip operator --provider akash1... --kubeconfig ~/.kube/config --metal-lb-pool default --state /data/ip.db
`;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Registers `akash-ip operator`: the IP operator, in the foreground until SIGINT or SIGTERM. */
export function registerOperatorCommand(program: Command, io: CliIo, exit: { code: number }): void {
  program
    .command('operator')
    .description("run as the Akash provider's IP operator (drop-in for the Go operator; JSON logs on stdout)")
    .addHelpText('after', HELP)
    .option('--provider <address>', "the provider's bech32 address (required)")
    .option('--k8s-manifest-ns <namespace>', 'namespace of the ProviderLeasedIP objects (default "lease")')
    .option(
      '--metal-lb-pool <name>',
      'MetalLB IPAddressPool to lease from; repeat or comma-separate for several (default "default")',
      collect,
    )
    .option('--metallb-namespace <namespace>', 'namespace of the MetalLB pools (default "metallb-system")')
    .option('--rest-address <host>', 'address the HTTP API listens on (default 0.0.0.0)')
    .option('--rest-host <host>', 'same as --rest-address')
    .option('--rest-port <port>', 'port of the HTTP API (default 8080; 0 picks a free one)')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: the pod service account)')
    .option('--kube-context <name>', "kubeconfig context (default: the file's current-context)")
    .option('--state <file>', 'SQLite file of the lease engine (default: memory, rebuilt from the cluster)')
    .option('--quarantine <duration>', 'cool-down of a released address, e.g. 30m (default 1h)')
    .option(
      '--ip-family <family>',
      'family of a lease whose order asks for none: ipv4, ipv6 or dual (default ipv4)',
    )
    .option(
      '--akash-rest <url>',
      "Akash REST API to read each lease's placement attributes from (default: none)",
    )
    .option('--webhook-port <port>', 'serve the leased-IP admission webhook on this port (default: off)')
    .option('--webhook-service-name <name>', 'the Service the apiserver calls the webhook through')
    .option('--webhook-service-namespace <namespace>', "that Service's namespace")
    .option('--webhook-service-port <port>', "that Service's port (default 443)")
    .option('--webhook-url <url>', 'or the URL the apiserver calls, e.g. https://10.0.0.5:{port}/mutate')
    .option(
      '--webhook-configuration-name <name>',
      'name of the MutatingWebhookConfiguration (default akash-ip-leased-ips)',
    )
    .option(
      '--webhook-timeout-seconds <seconds>',
      "the apiserver's wait for the webhook, 1 to 30 (default 3)",
    )
    .option(
      '--roll-on-first-address <bool>',
      "roll a lease's workloads once when its first address is confirmed (default false)",
    )
    .action(async (options) => {
      // Loaded here, not at the top: every other command would otherwise pay for the operator's start-up.
      const { parseOperatorConfig, runOperator } = await import('../../operator/index.js');
      const { jsonLogger } = await import('../../daemon/index.js');
      const { restHost, metalLbPool, ...rest } = options;
      const restAddress = rest.restAddress ?? restHost;
      const config = parseOperatorConfig(
        {
          ...rest,
          ...(metalLbPool === undefined ? {} : { metalLbPool }),
          ...(restAddress === undefined ? {} : { restAddress }),
        },
        process.env,
      );
      if (!config.ok) {
        io.stderr.write(`${config.error.message}\n`);
        exit.code = exitCode(config.error.code);
        return;
      }
      const logger = jsonLogger(io.stdout);
      const started = await runOperator(config.value, { logger });
      if (!started.ok) {
        logger.log('error', 'the operator did not start', {
          code: started.error.code,
          error: started.error.message,
        });
        io.stderr.write(`${started.error.message}\n`);
        exit.code = exitCode(started.error.code);
        return;
      }
      // `on`, not `once`: tsx's loader exits on a signal whose only listener is a `once` wrapper
      let onSignal: () => void = () => {};
      const signalled = new Promise<void>((resolve) => {
        onSignal = resolve;
      });
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const refused = await Promise.race([signalled.then(() => undefined), started.value.refused]);
      await started.value.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (refused !== undefined) io.stderr.write(`${refused.message}\n`);
      exit.code = refused === undefined ? EXIT.ok : exitCode(refused.code);
    });
}
