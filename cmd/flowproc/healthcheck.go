package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func init() {
	register(&command{
		name:    "healthcheck",
		summary: "ask a running flowproc's gRPC health service; exit 0 when SERVING",
		run:     runHealthcheck,
	})
}

// runHealthcheck implements "flowproc healthcheck [-addr host:port]
// [-service name] [-timeout d] [TLS flags]": one grpc.health.v1.Health/Check
// call over plaintext gRPC, or TLS/mTLS with the -tls* flags. It exits 0 when the answer is SERVING and 1 otherwise
// (unreachable, timeout, NOT_SERVING, unknown service), which makes it
// usable as a container HEALTHCHECK in images without a shell or curl.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "localhost:50051", "flowproc gRPC `address` (host:port)")
	service := fs.String("service", "", "health `service` name to check (\"\" = the whole server)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this `duration`")
	var tf healthTLS
	fs.BoolVar(&tf.on, "tls", false, "connect with TLS, verifying the server against the system roots (or -tls-ca)")
	fs.StringVar(&tf.ca, "tls-ca", "", "CA bundle PEM `file` to verify the server with (implies -tls)")
	fs.StringVar(&tf.cert, "tls-cert", "", "client certificate PEM `file` for mTLS (implies -tls; needs -tls-key)")
	fs.StringVar(&tf.key, "tls-key", "", "client private key PEM `file` for mTLS")
	fs.StringVar(&tf.serverName, "tls-server-name", "", "`name` the server certificate must carry (default: the -addr host)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: flowproc healthcheck [-addr host:port] [-service name] [-timeout d] [-tls] [-tls-ca file] [-tls-cert file -tls-key file] [-tls-server-name name]")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "flowproc healthcheck: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	creds, err := tf.credentials()
	if err != nil {
		fmt.Fprintf(stderr, "flowproc healthcheck: %v\n", err)
		return 2
	}
	status, err := checkHealth(ctx, *addr, *service, *timeout, creds)
	if err != nil {
		fmt.Fprintf(stderr, "flowproc healthcheck: %s: %v\n", *addr, err)
		return 1
	}
	fmt.Fprintln(stdout, status)
	if status != healthpb.HealthCheckResponse_SERVING {
		return 1
	}
	return 0
}

// checkHealth performs one Health/Check call against addr; creds nil means
// plaintext.
func checkHealth(ctx context.Context, addr, service string, timeout time.Duration, creds credentials.TransportCredentials) (healthpb.HealthCheckResponse_ServingStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	return resp.GetStatus(), nil
}
