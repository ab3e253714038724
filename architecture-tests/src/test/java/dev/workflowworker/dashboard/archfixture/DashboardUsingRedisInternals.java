package dev.workflowworker.dashboard.archfixture;

/** Breaks the internals rule: the dashboard on worker-redis's reply parser. */
public class DashboardUsingRedisInternals {
    dev.workflowworker.redis.internal.client.StreamEntries entries;
}
