package dev.workflowworker.redis.internal.shared.archfixture;

/** Breaks the modes rule: the shared mode on the partitioned mode's log. */
public class SharedModeUsingPartitions {
    dev.workflowworker.redis.internal.partitioned.PartitionLog log;
}
