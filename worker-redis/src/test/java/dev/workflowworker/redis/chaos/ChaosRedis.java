package dev.workflowworker.redis.chaos;

import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A redis-server with AOF and {@code appendfsync always}, so an acknowledged write survives
 * {@code kill -9}: the chaos run kills and restarts it on the same port and directory.
 */
final class ChaosRedis implements AutoCloseable {

    private final int port;
    private final Path dir;
    private Process process;

    ChaosRedis() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            this.port = s.getLocalPort();
        }
        this.dir = Files.createTempDirectory("workflow-worker-chaos-");
        start();
    }

    String uri() {
        return "redis://127.0.0.1:" + port;
    }

    void start() throws IOException {
        process = new ProcessBuilder(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                "--logfile", dir.resolve("redis.log").toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Jedis j = new Jedis(new redis.clients.jedis.HostAndPort("127.0.0.1", port),
                    redis.clients.jedis.DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false)
                            .timeoutMillis(200).build())) {
                // After a restart Redis answers LOADING until the AOF is replayed.
                if ("PONG".equals(j.ping())) {
                    return;
                }
            } catch (RuntimeException e) {
                if (!process.isAlive()) {
                    throw new IOException("redis-server exited: see " + dir.resolve("redis.log"));
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting redis-server");
            }
        }
        throw new IOException("redis-server did not answer PING on port " + port);
    }

    /** kill -9: no shutdown save, only what AOF already holds survives. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    void pause(long millis) {
        try (Jedis j = new Jedis(new redis.clients.jedis.HostAndPort("127.0.0.1", port),
                redis.clients.jedis.DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false)
                        .timeoutMillis(2000).build())) {
            j.clientPause(millis);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null) {
            kill();
        }
    }
}
