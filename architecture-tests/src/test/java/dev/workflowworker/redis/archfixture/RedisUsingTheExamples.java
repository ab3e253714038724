package dev.workflowworker.redis.archfixture;

/** Breaks the rule that nothing published needs the examples. */
public class RedisUsingTheExamples {
    dev.workflowworker.examples.Main main;
}
