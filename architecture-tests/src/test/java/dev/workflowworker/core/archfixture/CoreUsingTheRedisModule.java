package dev.workflowworker.core.archfixture;

/** Breaks the no-Redis-in-core rule through worker-redis. */
public class CoreUsingTheRedisModule {
    dev.workflowworker.redis.RedisOptions options;
}
