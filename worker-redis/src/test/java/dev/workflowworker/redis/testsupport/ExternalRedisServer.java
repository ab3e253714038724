package dev.workflowworker.redis.testsupport;

import redis.clients.jedis.RedisClient;

/** A server named by {@code REDIS_URL}; tests flush its database and cannot restart it. */
final class ExternalRedisServer implements RedisServer {

    private final String uri;

    ExternalRedisServer(String uri) {
        this.uri = uri;
    }

    @Override
    public Kind kind() {
        return Kind.EXTERNAL;
    }

    @Override
    public String uri() {
        return uri;
    }

    /** Keeps the credentials and database of the URL, which the default ignores. */
    @Override
    public RedisClient client() {
        return RedisClient.create(uri);
    }

    @Override
    public boolean isRestartable() {
        return false;
    }

    @Override
    public void stop() {
        throw new UnsupportedOperationException("a Redis server given by REDIS_URL cannot be stopped by tests");
    }

    @Override
    public void start() {
        throw new UnsupportedOperationException("a Redis server given by REDIS_URL cannot be started by tests");
    }

    @Override
    public boolean isRunning() {
        try (RedisClient c = client()) {
            return "PONG".equals(c.ping());
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void flush() {
        try (RedisClient c = client()) {
            c.flushDB();
            c.scriptFlush();
        }
    }

    @Override
    public void close() {
        // Not ours to stop.
    }

    @Override
    public String toString() {
        return "Redis from REDIS_URL";
    }
}
