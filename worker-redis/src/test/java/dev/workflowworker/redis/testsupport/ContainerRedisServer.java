package dev.workflowworker.redis.testsupport;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import redis.clients.jedis.Jedis;

/**
 * A Testcontainers {@code redis:7}. Stopping pauses the container so the mapped port stays the
 * same across a restart; connections then time out rather than being refused.
 */
final class ContainerRedisServer implements RedisServer {

    private final GenericContainer<?> container;
    private boolean paused;

    private ContainerRedisServer(GenericContainer<?> container) {
        this.container = container;
    }

    /** @return whether a Docker daemon answers; never throws */
    static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable e) {
            return false;
        }
    }

    static ContainerRedisServer startNew() {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse("redis:7"))
                .withExposedPorts(6379)
                .withCommand("redis-server", "--save", "", "--appendonly", "no");
        c.start();
        return new ContainerRedisServer(c);
    }

    @Override
    public Kind kind() {
        return Kind.CONTAINER;
    }

    @Override
    public String uri() {
        return "redis://" + container.getHost() + ":" + container.getMappedPort(6379);
    }

    @Override
    public boolean isRestartable() {
        return true;
    }

    @Override
    public synchronized void stop() {
        if (!paused) {
            container.getDockerClient().pauseContainerCmd(container.getContainerId()).exec();
            paused = true;
        }
    }

    @Override
    public synchronized void start() {
        if (paused) {
            container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
            paused = false;
        }
    }

    @Override
    public boolean isRunning() {
        try (Jedis jedis = Probe.jedis(container.getHost(), container.getMappedPort(6379), 300)) {
            return "PONG".equals(jedis.ping());
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void flush() {
        try (Jedis jedis = Probe.jedis(container.getHost(), container.getMappedPort(6379), 2000)) {
            jedis.flushAll();
            jedis.scriptFlush();
        }
    }

    @Override
    public void close() {
        container.stop();
    }

    @Override
    public String toString() {
        return "redis:7 container at " + uri();
    }
}
