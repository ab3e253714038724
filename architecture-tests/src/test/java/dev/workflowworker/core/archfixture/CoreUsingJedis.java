package dev.workflowworker.core.archfixture;

/** Breaks the no-Redis-in-core rule through the Redis client. */
public class CoreUsingJedis {
    redis.clients.jedis.RedisClient client;
}
