package dev.workflowworker.redis;

import dev.workflowworker.core.WorkerConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedisOptionsTest {

    @Test
    void defaultsFollowTheSeedSystem() {
        RedisOptions o = RedisOptions.builder().build();
        assertEquals("localhost", o.host());
        assertEquals(6379, o.port());
        assertEquals("workflow:events:global", o.stream());
        assertEquals("workflow:events:global:dlq", o.deadLetterStream());
        assertEquals("workflow:events:global:retry", o.retryKey());
        assertEquals("workflow-processors", o.group());
        assertEquals("0", o.groupStartId());
        assertEquals("workflow:", o.keyPrefix());
        assertEquals(Duration.ofSeconds(30), o.claimIdle());
        assertEquals(Duration.ofHours(24), o.processedTtl());
        assertEquals(1024 * 1024, o.maxPayloadBytes());
        assertFalse(o.ssl());
    }

    @Test
    void derivedKeysFollowACustomStream() {
        RedisOptions o = RedisOptions.builder().stream("orders").build();
        assertEquals("orders:dlq", o.deadLetterStream());
        assertEquals("orders:retry", o.retryKey());
        assertEquals("orders2:dlq", o.toBuilder().stream("orders2").build().deadLetterStream());
    }

    @Test
    void parsesUserPasswordHostPortAndDatabaseFromUri() {
        RedisOptions o = RedisOptions.fromUri("redis://alice:s%40cret@redis.example:6380/3");
        assertEquals("alice", o.user());
        assertEquals("s@cret", o.password());
        assertEquals("redis.example", o.host());
        assertEquals(6380, o.port());
        assertEquals(3, o.database());
        assertFalse(o.ssl());
    }

    @Test
    void redissSchemeMeansTls() {
        RedisOptions o = RedisOptions.fromUri("rediss://:pw@secure.example");
        assertTrue(o.ssl());
        assertNull(o.user());
        assertTrue(o.hasPassword());
        assertEquals(6379, o.port());
    }

    @Test
    void passwordNeverAppearsInToStringOrEndpoint() {
        RedisOptions o = RedisOptions.fromUri("redis://alice:TopSecret42@redis.example:6380/2");
        assertFalse(o.toString().contains("TopSecret42"), o.toString());
        assertFalse(o.endpoint().contains("TopSecret42"));
        assertTrue(o.endpoint().contains("alice:***@redis.example:6380/2"), o.endpoint());
    }

    @Test
    void malformedUriMessageHidesThePassword() {
        IllegalArgumentException badDb = assertThrows(IllegalArgumentException.class,
                () -> RedisOptions.fromUri("redis://bob:TopSecret42@host:1/notanumber"));
        assertFalse(badDb.getMessage().contains("TopSecret42"), badDb.getMessage());
        assertTrue(badDb.getMessage().startsWith("uri:"));
        IllegalArgumentException badScheme = assertThrows(IllegalArgumentException.class,
                () -> RedisOptions.fromUri("http://bob:TopSecret42@host:1"));
        assertFalse(badScheme.getMessage().contains("TopSecret42"), badScheme.getMessage());
        IllegalArgumentException badSyntax = assertThrows(IllegalArgumentException.class,
                () -> RedisOptions.fromUri("redis://bob:Top Secret42@ho st"));
        assertFalse(badSyntax.getMessage().contains("Secret42"), badSyntax.getMessage());
    }

    @Test
    void readsRedisUrlStreamGroupAndClaimIdleFromTheWorkerEnvironment() {
        WorkerConfig config = WorkerConfig.fromEnvironment(Map.of("REDIS_URL", "redis://:pw@cache.internal:6390/4",
                "WORKER_STREAM", "orders", "WORKER_GROUP", "billing", "CLAIM_IDLE_MS", "45000"));
        RedisOptions o = RedisOptions.fromConfig(config);
        assertEquals("cache.internal", o.host());
        assertEquals(6390, o.port());
        assertEquals(4, o.database());
        assertEquals("pw", o.password());
        assertEquals("orders", o.stream());
        assertEquals("orders:dlq", o.deadLetterStream());
        assertEquals("billing", o.group());
        assertEquals(Duration.ofSeconds(45), o.claimIdle());
        assertEquals("localhost", RedisOptions.fromConfig(WorkerConfig.fromEnvironment(Map.of())).host());
    }

    @Test
    void invalidSettingsFailNamingTheSetting() {
        RedisOptions.Builder b = RedisOptions.builder();
        assertMessageStarts("port", () -> b.port(0));
        assertMessageStarts("database", () -> b.database(-1));
        assertMessageStarts("stream", () -> b.stream(" "));
        assertMessageStarts("group", () -> b.group(null));
        assertMessageStarts("keyPrefix", () -> b.keyPrefix(""));
        assertMessageStarts("groupStartId", () -> b.groupStartId("12"));
        assertMessageStarts("poolSize", () -> b.poolSize(0));
        assertMessageStarts("claimIdle", () -> b.claimIdle(Duration.ZERO));
        assertMessageStarts("processedTtl", () -> b.processedTtl(Duration.ofSeconds(-1)));
        assertMessageStarts("connectTimeout", () -> b.connectTimeout(null));
        assertMessageStarts("deadLetterMaxLength", () -> b.deadLetterMaxLength(0));
        assertMessageStarts("maxPayloadBytes", () -> b.maxPayloadBytes(0));
        assertMessageStarts("trustStore", () -> b.trustStore(java.nio.file.Path.of("/no/such/truststore.p12"),
                "pw".toCharArray(), "PKCS12"));
    }

    private static void assertMessageStarts(String setting, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(setting), e.getMessage());
    }
}
