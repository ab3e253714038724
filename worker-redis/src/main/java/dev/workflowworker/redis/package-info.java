/**
 * Redis Streams transport ({@link dev.workflowworker.redis.RedisEventTransport}) and fenced
 * distributed locks ({@link dev.workflowworker.redis.RedisLockProvider}) for workflow-worker,
 * configured by {@link dev.workflowworker.redis.RedisOptions}.
 */
package dev.workflowworker.redis;
