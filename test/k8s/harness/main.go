// Command k8s-harness runs a throwaway Kubernetes control plane for the akash-ip k8s tests:
// an embedded etcd, an in-process kube-apiserver and the MetalLB controller (a separate binary,
// started in a network namespace of its own). Everything listens on 127.0.0.1 only, on free ports.
//
// When the cluster is ready it prints one JSON line on stdout (server URL, CA, token, kubeconfig
// path). It stops, and removes its temporary directory, on SIGINT/SIGTERM or when stdin closes,
// so a test process that dies cannot leave it running.
//
// Controls, one per line on stdin: `restart-metallb` stops the MetalLB controller and starts it
// again (same flags, same network namespace set-up), then prints `{"event":"metallb-restarted"}`;
// `stop-metallb` and `start-metallb` do each half, printing `{"event":"metallb-stopped"}` and
// `{"event":"metallb-started"}`, so a test can act while MetalLB is down.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	"sigs.k8s.io/yaml"
)

// Ranges are documentation addresses: no packet ever goes to them (no kube-proxy, no speaker).
// The tests' pools must avoid these. Dual-stack, so IPv6 LoadBalancer Services can be made too.
const (
	serviceCIDR = "203.0.113.0/25,2001:db8:ffff::/112"
	probeCIDR   = "203.0.113.254/32"
	// Address the controller dials inside its own network namespace; forwarded to the apiserver.
	nsAPIAddr = "127.0.0.1:6443"
)

var ipAddressPoolGVR = schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "ipaddresspools"}

type ready struct {
	Server           string `json:"server"`
	CA               string `json:"ca"`
	Token            string `json:"token"`
	Kubeconfig       string `json:"kubeconfig"`
	MetallbNamespace string `json:"metallbNamespace"`
	ServiceCIDR      string `json:"serviceCIDR"`
	WorkDir          string `json:"workDir"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "netns-exec" {
		if err := netnsExec(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "netns-exec:", err)
			os.Exit(1)
		}
		return
	}
	controller := flag.String("metallb-controller", "", "path of the MetalLB controller binary")
	crdDir := flag.String("crd-dir", "", "directory holding MetalLB's CRD YAML files")
	namespace := flag.String("metallb-namespace", "metallb-system", "namespace MetalLB reads its pools from")
	flag.Parse()
	if *controller == "" || *crdDir == "" {
		fmt.Fprintln(os.Stderr, "usage: k8s-harness -metallb-controller PATH -crd-dir DIR")
		os.Exit(2)
	}
	if err := run(*controller, *crdDir, *namespace); err != nil {
		fmt.Fprintln(os.Stderr, "k8s-harness:", err)
		os.Exit(1)
	}
}

func run(controllerBin, crdDir, namespace string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// Stdin closing means the parent is gone; the lines before are controls.
	controls := make(chan string, 16)
	go func() {
		lines := bufio.NewScanner(os.Stdin)
		for lines.Scan() {
			switch line := strings.TrimSpace(lines.Text()); line {
			case "restart-metallb", "stop-metallb", "start-metallb":
				controls <- line
			}
		}
		cancel()
	}()

	work, err := os.MkdirTemp("", "akash-ip-k8s-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	etcd, etcdURL, err := startEtcd(filepath.Join(work, "etcd"))
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer etcd.Close()

	pki, err := writePKI(filepath.Join(work, "pki"))
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}

	server, apiErr, err := startAPIServer(ctx, etcdURL, pki)
	if err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	cfg := &rest.Config{
		Host:            server,
		BearerToken:     pki.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: pki.caPEM},
		QPS:             200,
		Burst:           400,
	}
	if err := waitReady(ctx, cfg, apiErr); err != nil {
		return fmt.Errorf("kube-apiserver readiness: %w", err)
	}
	if err := installCRDs(ctx, cfg, crdDir); err != nil {
		return fmt.Errorf("MetalLB CRDs: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}

	controller, err := startController(work, controllerBin, namespace, server, pki)
	if err != nil {
		return fmt.Errorf("MetalLB controller: %w", err)
	}
	defer controller.close()
	if err := probeMetalLB(ctx, cfg, namespace, controller.exited); err != nil {
		return fmt.Errorf("MetalLB probe: %w", err)
	}

	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, server, pki); err != nil {
		return err
	}
	line, err := json.Marshal(ready{
		Server: server, CA: string(pki.caPEM), Token: pki.token, Kubeconfig: kubeconfig,
		MetallbNamespace: namespace, ServiceCIDR: serviceCIDR, WorkDir: work,
	})
	if err != nil {
		return err
	}
	fmt.Println(string(line))

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-apiErr:
			return fmt.Errorf("kube-apiserver stopped: %w", err)
		case err := <-controller.exited:
			return fmt.Errorf("MetalLB controller stopped: %w", err)
		case control := <-controls:
			if control != "start-metallb" {
				controller.stop()
			}
			if control != "stop-metallb" {
				if err := controller.start(); err != nil {
					return fmt.Errorf("MetalLB controller %s: %w", control, err)
				}
			}
			event := map[string]string{"restart-metallb": "metallb-restarted", "stop-metallb": "metallb-stopped", "start-metallb": "metallb-started"}[control]
			fmt.Printf("{\"event\":%q}\n", event)
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startEtcd(dir string) (*embed.Etcd, string, error) {
	clientPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.Name = "harness"
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	// Throwaway data: skipping fsync keeps a 2-core CI box responsive.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, "", errors.New("not ready after 60s")
	}
	return e, clientURL.String(), nil
}

type pkiFiles struct {
	dir                string
	caPEM              []byte
	caFile, certFile   string
	keyFile, saKeyFile string
	tokenFile, token   string
}

func writePKI(dir string) (*pkiFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "akash-ip test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(48 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tokenBytes := make([]byte, 24)
	if _, err := rand.Read(tokenBytes); err != nil {
		return nil, err
	}
	p := &pkiFiles{
		dir:       dir,
		caPEM:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		caFile:    filepath.Join(dir, "ca.crt"),
		certFile:  filepath.Join(dir, "apiserver.crt"),
		keyFile:   filepath.Join(dir, "apiserver.key"),
		saKeyFile: filepath.Join(dir, "sa.key"),
		tokenFile: filepath.Join(dir, "tokens.csv"),
		token:     hex.EncodeToString(tokenBytes),
	}
	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return nil, err
	}
	saKeyDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		p.caFile:    p.caPEM,
		p.certFile:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		p.keyFile:   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: srvKeyDER}),
		p.saKeyFile: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saKeyDER}),
		// One admin identity; the tests and the MetalLB controller both use it.
		p.tokenFile: []byte(p.token + `,harness-admin,harness-admin,"system:masters"` + "\n"),
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// startAPIServer runs kube-apiserver in this process, on a listener it owns (no port race).
func startAPIServer(ctx context.Context, etcdURL string, p *pkiFiles) (string, <-chan error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	s := options.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, f := range s.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	s.SecureServing.Listener = ln
	s.SecureServing.BindPort = ln.Addr().(*net.TCPAddr).Port
	s.SecureServing.ExternalAddress = net.ParseIP("127.0.0.1")
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--tls-cert-file=" + p.certFile,
		"--tls-private-key-file=" + p.keyFile,
		"--token-auth-file=" + p.tokenFile,
		"--anonymous-auth=false",
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + p.saKeyFile,
		"--service-account-signing-key-file=" + p.saKeyFile,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--cert-dir=" + p.dir,
	}
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return "", nil, err
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return "", nil, err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return "", nil, utilerrors.NewAggregate(errs)
	}
	config, err := app.NewConfig(completed)
	if err != nil {
		return "", nil, err
	}
	cc, err := config.Complete()
	if err != nil {
		return "", nil, err
	}
	chain, err := app.CreateServerChain(cc)
	if err != nil {
		return "", nil, err
	}
	errCh := make(chan error, 1)
	go func() {
		prepared, err := chain.PrepareRun()
		if err == nil {
			err = prepared.Run(ctx)
		}
		if err == nil {
			err = errors.New("exited")
		}
		errCh <- err
	}()
	return "https://" + ln.Addr().String(), errCh, nil
}

func waitReady(ctx context.Context, cfg *rest.Config, apiErr <-chan error) error {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 120*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-apiErr:
			return false, err
		default:
		}
		body, err := kube.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			last = fmt.Errorf("%w: %s", err, body)
			return false, nil
		}
		return true, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last answer: %v)", err, last)
	}
	return err
}

func installCRDs(ctx context.Context, cfg *rest.Config, dir string) error {
	client, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("no CRD files in %s", dir)
	}
	sort.Strings(paths)
	names := make([]string, 0, len(paths))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &crd); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: %w", crd.Name, err)
		}
		names = append(names, crd.Name)
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		for _, name := range names {
			crd, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			established := false
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					established = true
				}
			}
			if !established {
				return false, nil
			}
		}
		return true, nil
	})
}

// metallbController is the MetalLB controller process, run in a fresh network namespace: its health
// and metrics servers bind to all interfaces, which there means only that namespace's loopback.
// It reaches the apiserver through a unix socket that this process forwards to TCP; the socket
// outlives a restart of the process.
type metallbController struct {
	socket  net.Listener
	command []string
	env     []string
	log     *os.File
	cmd     *exec.Cmd
	// exited receives once when the running process ends on its own (not through stop); nil while stopped.
	exited <-chan error
	waited chan error
}

func startController(work, bin, namespace, server string, p *pkiFiles) (*metallbController, error) {
	sock := filepath.Join(work, "apiserver.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		return nil, err
	}
	target := strings.TrimPrefix(server, "https://")
	go forward(ul, func() (net.Conn, error) { return net.Dial("tcp", target) })

	kubeconfig := filepath.Join(work, "controller.kubeconfig")
	if err := writeKubeconfig(kubeconfig, "https://"+nsAPIAddr, p); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(work, "metallb-controller.log"))
	if err != nil {
		return nil, err
	}
	c := &metallbController{
		socket: ul,
		command: []string{"unshare", "--net", "--map-root-user", "--", self, "netns-exec", sock, nsAPIAddr, "--",
			bin,
			"--namespace=" + namespace,
			"--webhook-mode=disabled",
			"--disable-cert-rotation",
			"--log-level=info",
		},
		env: append(os.Environ(), "KUBECONFIG="+kubeconfig, "METALLB_NAMESPACE="+namespace),
		log: logFile,
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

// start runs a new controller process; one already running is left as it is.
func (c *metallbController) start() error {
	if c.cmd != nil {
		return nil
	}
	cmd := exec.Command(c.command[0], c.command[1:]...)
	cmd.Env = c.env
	cmd.Stdout = c.log
	cmd.Stderr = c.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	waited := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		waited <- err
		exited <- fmt.Errorf("%v (log: %s)", err, tail(c.log.Name(), 2000))
	}()
	c.cmd, c.waited, c.exited = cmd, waited, exited
	return nil
}

// stop ends the running process, if any: SIGTERM, then SIGKILL after 5 s.
func (c *metallbController) stop() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.waited:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.waited
	}
	c.cmd, c.exited = nil, nil
}

func (c *metallbController) close() {
	c.stop()
	_ = c.socket.Close()
	_ = c.log.Close()
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

func forward(l net.Listener, dial func() (net.Conn, error)) {
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer in.Close()
			out, err := dial()
			if err != nil {
				return
			}
			defer out.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
			go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
			<-done
		}()
	}
}

// netnsExec runs inside the new network namespace: bring loopback up, forward a loopback TCP
// port to the unix socket, then run the given command until it exits.
func netnsExec(args []string) error {
	if len(args) < 4 || args[2] != "--" {
		return errors.New("usage: netns-exec SOCKET HOST:PORT -- COMMAND...")
	}
	sock, addr, command := args[0], args[1], args[3:]
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go forward(l, func() (net.Conn, error) { return net.Dial("unix", sock) })
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		_ = cmd.Process.Signal(s)
	}()
	return cmd.Wait()
}

// probeMetalLB proves the controller assigns addresses before the harness says it is ready:
// a one-address pool and a LoadBalancer Service, both deleted again afterwards.
func probeMetalLB(ctx context.Context, cfg *rest.Config, namespace string, controllerErr <-chan error) error {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	const name = "harness-probe"
	pool := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1",
		"kind":       "IPAddressPool",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec":       map[string]any{"addresses": []any{probeCIDR}},
	}}
	pools := dyn.Resource(ipAddressPoolGVR).Namespace(namespace)
	if _, err := pools.Create(ctx, pool, metav1.CreateOptions{}); err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: name},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "probe", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(80)}},
		},
	}
	if _, err := kube.CoreV1().Services(name).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 120*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-controllerErr:
			return false, err
		default:
		}
		got, err := kube.CoreV1().Services(name).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		ingress := got.Status.LoadBalancer.Ingress
		return len(ingress) == 1 && ingress[0].IP+"/32" == probeCIDR, nil
	})
	if err != nil {
		return fmt.Errorf("no address assigned to the probe Service: %w", err)
	}
	if err := kube.CoreV1().Services(name).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return err
	}
	if err := kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return err
	}
	return pools.Delete(ctx, name, metav1.DeleteOptions{})
}

func writeKubeconfig(path, server string, p *pkiFiles) error {
	doc := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": "harness",
		"clusters": []any{map[string]any{"name": "harness", "cluster": map[string]any{
			"server": server, "certificate-authority": p.caFile,
		}}},
		"users": []any{map[string]any{"name": "harness-admin", "user": map[string]any{"token": p.token}}},
		"contexts": []any{map[string]any{"name": "harness", "context": map[string]any{
			"cluster": "harness", "user": "harness-admin",
		}}},
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
