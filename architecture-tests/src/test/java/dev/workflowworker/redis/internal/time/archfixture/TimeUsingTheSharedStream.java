package dev.workflowworker.redis.internal.time.archfixture;

/** Breaks the time rule: the code of both modes' time on one mode's class. */
public class TimeUsingTheSharedStream {
    dev.workflowworker.redis.internal.shared.SharedStream stream;
}
