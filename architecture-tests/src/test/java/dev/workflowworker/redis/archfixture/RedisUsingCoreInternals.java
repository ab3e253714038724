package dev.workflowworker.redis.archfixture;

/** Breaks the internals rule: worker-redis code on worker-core's internal codec. */
public class RedisUsingCoreInternals {
    dev.workflowworker.core.internal.WireCodec codec;
}
