package dev.workflowworker.redis.internal.partitioned.archfixture;

/** Breaks the modes rule: the partitioned mode on the shared stream's consumer. */
public class PartitionedModeUsingTheSharedConsumer {
    dev.workflowworker.redis.internal.shared.RedisConsumer consumer;
}
