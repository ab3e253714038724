package dev.workflowworker.redis.testsupport;

import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code redis-server} from PATH on a free local port, without persistence, in a temp dir.
 *
 * <p>{@link RedisServerExtension} spawns a plain one. Tests that need a differently configured
 * server (ACL users, passwords, TLS) build their own with {@link #builder()}, and must
 * {@link #close()} it in a {@code finally} block or an {@code @AfterAll} method:
 *
 * <pre>{@code
 * SpawnedRedisServer server = SpawnedRedisServer.builder()
 *         .args("--aclfile", aclFile.toString())
 *         .probe(DefaultJedisClientConfig.builder().user("default").password(adminPassword))
 *         .start();
 * }</pre>
 */
public final class SpawnedRedisServer implements RedisServer {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final String executable;
    private final int port;
    private final Path dir;
    private final List<String> extraArgs;
    private final TlsFiles tls;
    private final JedisClientConfig probeConfig;
    private Process process;

    private SpawnedRedisServer(String executable, int port, Path dir) {
        this(executable, port, dir, List.of(), null, null);
    }

    private SpawnedRedisServer(String executable, int port, Path dir, List<String> extraArgs, TlsFiles tls,
                               JedisClientConfig probeConfig) {
        this.executable = executable;
        this.port = port;
        this.dir = dir;
        this.extraArgs = List.copyOf(extraArgs);
        this.tls = tls;
        this.probeConfig = probeConfig;
    }

    /** @return a builder of a server with extra configuration; {@link Builder#start()} spawns it */
    public static Builder builder() {
        return new Builder();
    }

    /** The certificate files of a TLS-only server. */
    private record TlsFiles(Path cert, Path key, Path caCert) {
    }

    /** Configures a server of one's own; not thread-safe. */
    public static final class Builder {
        private final List<String> args = new ArrayList<>();
        private TlsFiles tls;
        private DefaultJedisClientConfig.Builder probe;

        private Builder() {
        }

        /**
         * Adds command-line configuration, e.g. {@code "--aclfile", path} or {@code "--requirepass", pw}.
         *
         * @param more directives and their values
         * @return this builder
         */
        public Builder args(String... more) {
            args.addAll(List.of(more));
            return this;
        }

        /**
         * Serves TLS only: the plain port is disabled ({@code --port 0}) and the server's port
         * becomes its TLS port; clients need no certificate of their own.
         *
         * @param cert   the server certificate (PEM)
         * @param key    its private key (PEM)
         * @param caCert the CA certificate (PEM); for a self-signed certificate, the certificate itself
         * @return this builder
         */
        public Builder tls(Path cert, Path key, Path caCert) {
            this.tls = new TlsFiles(cert, key, caCert);
            return this;
        }

        /**
         * How the test support connects to check readiness and to flush: credentials, TLS socket
         * factory and so on. Protocol and timeout are set by the support.
         *
         * @param config the client configuration
         * @return this builder
         */
        public Builder probe(DefaultJedisClientConfig.Builder config) {
            this.probe = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * Spawns the server and waits until it answers PING through the probe configuration.
         *
         * @return the running server
         * @throws IllegalStateException if {@code redis-server} is not on PATH or does not start
         */
        public SpawnedRedisServer start() {
            String executable = findExecutable();
            if (executable == null) {
                throw new IllegalStateException("redis-server is not on PATH (e.g. apt-get install redis-server)");
            }
            JedisClientConfig probeConfig = (probe != null ? probe : DefaultJedisClientConfig.builder())
                    .resp2().autoNegotiateProtocol(false).ssl(tls != null).timeoutMillis(2000).build();
            boolean clusterNode = args.contains("--cluster-enabled");
            return startOnFreePort(dir -> new SpawnedRedisServer(executable,
                    clusterNode ? freeClusterPort() : freePort(), dir, args, tls, probeConfig));
        }
    }

    private interface Spawn {
        SpawnedRedisServer on(Path dir) throws IOException;
    }

    /**
     * Starts a server on a port that was free a moment ago; another process (a parallel build, an
     * outgoing connection's ephemeral port) may take it in between, so a bind failure tries
     * another port.
     */
    private static SpawnedRedisServer startOnFreePort(Spawn spawn) {
        for (int attempt = 1; ; attempt++) {
            SpawnedRedisServer server;
            try {
                server = spawn.on(Files.createTempDirectory("workflow-worker-redis-"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare a redis-server", e);
            }
            try {
                server.start();
                return server;
            } catch (RuntimeException e) {
                server.close();
                if (attempt == 5 || e.getMessage() == null || !e.getMessage().contains("Address already in use")) {
                    throw e;
                }
            }
        }
    }

    /** @return the redis-server executable found on PATH, or null */
    static String findExecutable() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String d : path.split(File.pathSeparator)) {
            File f = new File(d, "redis-server");
            if (f.isFile() && f.canExecute()) {
                return f.getAbsolutePath();
            }
        }
        return null;
    }

    static SpawnedRedisServer startNew(String executable) {
        return startOnFreePort(dir -> new SpawnedRedisServer(executable, freePort(), dir));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /**
     * A free port for a cluster node: its cluster bus listens 10,000 above, so the port must be at
     * most 55535 and that one must be free too. Free ports from the OS often lie above 55535.
     */
    private static int freeClusterPort() throws IOException {
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = 20_000 + random.nextInt(35_535);
            try (ServerSocket a = new ServerSocket(port); ServerSocket b = new ServerSocket(port + 10_000)) {
                a.setReuseAddress(true);
                b.setReuseAddress(true);
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no free port pair (p, p + 10000) for a cluster node below 55536");
    }

    @Override
    public Kind kind() {
        return Kind.SPAWNED;
    }

    @Override
    public String uri() {
        return (tls != null ? "rediss" : "redis") + "://127.0.0.1:" + port;
    }

    /** @return the port clients connect to (the TLS port of a TLS-only server) */
    public int port() {
        return port;
    }

    /** @return the server's working directory; its log is {@code redis.log} there */
    public Path dir() {
        return dir;
    }

    /** @return the last lines of the server's log, for failure messages */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("redis.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** @return a client connecting the way the probe does (e.g. as an administrator) */
    @Override
    public RedisClient client() {
        if (probeConfig == null) {
            return RedisServer.super.client();
        }
        return RedisClient.builder().hostAndPort("127.0.0.1", port).clientConfig(probeConfig).build();
    }

    @Override
    public boolean isRestartable() {
        return true;
    }

    @Override
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        List<String> command = new ArrayList<>(List.of(executable));
        if (tls == null) {
            command.addAll(List.of("--port", Integer.toString(port)));
        } else {
            command.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port),
                    "--tls-cert-file", tls.cert().toString(), "--tls-key-file", tls.key().toString(),
                    "--tls-ca-cert-file", tls.caCert().toString(), "--tls-auth-clients", "no"));
        }
        command.addAll(List.of("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--logfile", dir.resolve("redis.log").toString()));
        command.addAll(extraArgs);
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stdout.log").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + executable, e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!isRunning()) {
            if (!process.isAlive()) {
                int exit = process.exitValue();
                process = null;
                throw new IllegalStateException("redis-server on port " + port + " exited with "
                        + exit + "; see " + dir.resolve("redis.log") + ":\n" + logTail() + "\n" + stdoutTail());
            }
            if (System.nanoTime() - deadline > 0) {
                stop();
                throw new IllegalStateException("redis-server on port " + port + " did not answer PING within "
                        + START_TIMEOUT + ":\n" + logTail());
            }
            pause();
        }
    }

    private String stdoutTail() {
        try {
            return Files.readString(dir.resolve("stdout.log"));
        } catch (IOException e) {
            return "";
        }
    }

    private Jedis probe(int timeoutMillis) {
        if (probeConfig == null) {
            return Probe.jedis("127.0.0.1", port, timeoutMillis);
        }
        return new Jedis(new HostAndPort("127.0.0.1", port), probeConfig);
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting redis-server", e);
        }
    }

    @Override
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    /** Kills the process with SIGKILL, as a crash would; its directory (and cluster config) is kept for {@link #start()}. */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    /** Stops the process with SIGSTOP: it holds its connections open and answers nothing until {@link #thaw()}. */
    public synchronized void freeze() {
        signal("-STOP");
    }

    /** Resumes a frozen process with SIGCONT. */
    public synchronized void thaw() {
        signal("-CONT");
    }

    private void signal(String sig) {
        if (process == null) {
            throw new IllegalStateException("redis-server on port " + port + " is not running");
        }
        try {
            Process kill = new ProcessBuilder("kill", sig, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill " + sig + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** @return a single connection to this server for inspection; close it after use */
    public Jedis jedis() {
        return probe(2000);
    }

    @Override
    public boolean isRunning() {
        try (Jedis jedis = probe(300)) {
            return "PONG".equals(jedis.ping());
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void flush() {
        try (Jedis jedis = probe(2000)) {
            jedis.flushAll();
            jedis.scriptFlush();
        }
    }

    @Override
    public void close() {
        stop();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A leftover temp dir is harmless.
        }
    }

    @Override
    public String toString() {
        return "redis-server on port " + port;
    }
}
