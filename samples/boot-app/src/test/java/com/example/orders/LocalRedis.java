package com.example.orders;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * The Redis the sample runs against: {@code REDIS_URL} when set, else a {@code redis-server} started
 * on a free port for this test run. Kept free of any Redis client so the sample's classpath holds
 * only what its POM asks for.
 */
final class LocalRedis implements AutoCloseable {

    private final String url;
    private final Process process;
    private final Path dir;

    private LocalRedis(String url, Process process, Path dir) {
        this.url = url;
        this.process = process;
        this.dir = dir;
    }

    static LocalRedis start() throws IOException, InterruptedException {
        String external = System.getenv("REDIS_URL");
        if (external != null && !external.isBlank()) {
            return new LocalRedis(external, null, null);
        }
        // a port free a moment ago may be taken by another process before redis-server binds it
        for (int attempt = 1; ; attempt++) {
            try {
                return spawn();
            } catch (PortTaken e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private static final class PortTaken extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortTaken(String log) {
            super(log);
        }
    }

    private static LocalRedis spawn() throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("sample-redis");
        Process process;
        try {
            process = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", dir.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("These tests need Redis: install redis-server (Debian: apt-get install "
                    + "redis-server) or set REDIS_URL=redis://host:port", e);
        }
        LocalRedis redis = new LocalRedis("redis://127.0.0.1:" + port, process, dir);
        redis.awaitPong(Duration.ofSeconds(20));
        return redis;
    }

    String url() {
        return url;
    }

    URI uri() {
        return URI.create(url);
    }

    private void awaitPong(Duration limit) throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(limit);
        URI uri = uri();
        while (true) {
            try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
                OutputStream out = socket.getOutputStream();
                out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = socket.getInputStream();
                byte[] reply = in.readNBytes(7);
                if (new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n")) {
                    return;
                }
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    String log = Files.readString(dir.resolve("redis.log"));
                    throw log.contains("Address already in use") ? new PortTaken(log)
                            : new IllegalStateException("redis-server exited at start: " + log);
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new IllegalStateException("redis-server did not answer PING within " + limit, notYet);
                }
            }
            // the server is starting: it binds within milliseconds, so the wait is bounded by the deadline
            process.waitFor(20, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() throws Exception {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
