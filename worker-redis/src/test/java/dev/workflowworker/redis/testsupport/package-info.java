/**
 * Test support reused by later modules: {@link dev.workflowworker.redis.testsupport.RedisServerExtension}
 * provides a real, restartable Redis to JUnit 5 tests.
 */
package dev.workflowworker.redis.testsupport;
