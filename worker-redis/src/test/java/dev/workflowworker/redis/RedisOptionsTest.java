package dev.workflowworker.redis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
    void readsRedisUrlStreamAndGroupFromTheEnvironment() {
        RedisOptions o = RedisOptions.fromEnvironment(Map.of("REDIS_URL", " rediss://:pw@cache.internal:6390/4 ",
                "WORKER_STREAM", "orders", "WORKER_GROUP", "billing"));
        assertEquals("cache.internal", o.host());
        assertEquals(6390, o.port());
        assertEquals(4, o.database());
        assertEquals("pw", o.password());
        assertTrue(o.ssl());
        assertEquals("orders", o.stream());
        assertEquals("orders:dlq", o.deadLetterStream());
        assertEquals("orders:retry", o.retryKey());
        assertEquals("billing", o.group());
    }

    @Test
    void eachVariableIsReadOnItsOwnAndUnsetOrBlankKeepsTheDefault() {
        RedisOptions defaults = RedisOptions.builder().build();
        assertEquals(defaults.toString(), RedisOptions.fromEnvironment(Map.of()).toString());
        assertEquals(defaults.toString(), RedisOptions.fromEnvironment(
                Map.of("REDIS_URL", "", "WORKER_STREAM", " ", "WORKER_GROUP", "")).toString());
        assertEquals("redis.internal", RedisOptions.fromEnvironment(Map.of("REDIS_URL", "redis://redis.internal")).host());
        assertEquals("orders", RedisOptions.fromEnvironment(Map.of("WORKER_STREAM", "orders")).stream());
        assertEquals("billing", RedisOptions.fromEnvironment(Map.of("WORKER_GROUP", "billing")).group());
    }

    @Test
    void theOrderedModeIsTheDefaultAndZeroPartitionsSelectsTheSharedStream() {
        RedisOptions defaults = RedisOptions.builder().build();
        assertEquals(16, defaults.partitions());
        assertTrue(defaults.partitioned());
        assertEquals(16, RedisOptions.fromEnvironment(Map.of()).partitions());
        RedisOptions shared = RedisOptions.fromEnvironment(Map.of("WORKER_PARTITIONS", "0"));
        assertEquals(0, shared.partitions());
        assertFalse(shared.partitioned());
        assertFalse(RedisOptions.builder().partitions(0).build().partitioned());
    }

    @Test
    void engineVariablesAreNotReadHere() {
        // CLAIM_IDLE_MS and friends belong to WorkerConfig.fromEnvironment; a bad one is its error to report.
        RedisOptions o = RedisOptions.fromEnvironment(Map.of("CLAIM_IDLE_MS", "soon", "WORKER_COUNT", "many"));
        assertEquals(RedisOptions.builder().build().toString(), o.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://bob:TopSecret42@host:1        | http://***@host:1",
            "redis://bob:TopSecret42@host:1/db    | redis://***@host:1/db",
            "redis://:TopSecret42@ho st:1         | redis://***@ho st:1",
            "redis://TopSecret42@:6379            | redis://***@:6379",
            "not a url                            | not a url",
    })
    void malformedRedisUrlFailsNamingVariableAndMaskedValue(String value, String masked) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RedisOptions.fromEnvironment(Map.of("REDIS_URL", value)));
        assertTrue(e.getMessage().startsWith("REDIS_URL=" + masked + " is invalid: uri:"), e.getMessage());
        assertFalse(e.getMessage().contains("TopSecret42"), e.getMessage());
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
        assertMessageStarts("processedTtl", () -> b.processedTtl(Duration.ofSeconds(-1)));
        assertMessageStarts("connectTimeout", () -> b.connectTimeout(null));
        assertMessageStarts("deadLetterMaxLength", () -> b.deadLetterMaxLength(0));
        assertMessageStarts("maxPayloadBytes", () -> b.maxPayloadBytes(0));
        assertMessageStarts("trustStore", () -> b.trustStore(java.nio.file.Path.of("/no/such/truststore.p12"),
                "pw".toCharArray(), "PKCS12"));
    }

    @Test
    void commitLingerDefaultsToOneMillisecondAndIsBoundedNamingTheSetting() {
        assertEquals(Duration.ofMillis(1), RedisOptions.builder().build().commitLinger());
        assertEquals(Duration.ZERO, RedisOptions.builder().commitLinger(Duration.ZERO).build().commitLinger());
        assertEquals(Duration.ofMillis(100),
                RedisOptions.builder().commitLinger(Duration.ofMillis(100)).build().commitLinger());
        RedisOptions.Builder b = RedisOptions.builder();
        assertMessageStarts("commitLinger", () -> b.commitLinger(Duration.ofNanos(-1)));
        assertMessageStarts("commitLinger", () -> b.commitLinger(Duration.ofMillis(100).plusNanos(1)));
        assertMessageStarts("commitLinger", () -> b.commitLinger(null));
    }

    @Test
    void streamDeadLetterStreamAndRetryKeyMustBeThreeKeys() {
        assertRefused(RedisOptions.builder().stream("orders").deadLetterStream("orders"), "deadLetterStream", "stream");
        assertRefused(RedisOptions.builder().deadLetterStream("workflow:events:global"), "deadLetterStream", "stream");
        assertRefused(RedisOptions.builder().stream("orders").retryKey("orders"), "retryKey", "stream");
        assertRefused(RedisOptions.builder().deadLetterStream("x").retryKey("x"), "deadLetterStream", "retryKey");
        // Derived names follow the stream, so a stream renamed onto an explicit key is caught too.
        assertRefused(RedisOptions.builder().retryKey("orders").stream("orders"), "retryKey", "stream");
        assertRefused(RedisOptions.builder().deadLetterStream("orders:retry").stream("orders"),
                "deadLetterStream", "retryKey");
        assertEquals("orders:dlq", RedisOptions.builder().stream("orders").retryKey("orders:r").build()
                .deadLetterStream());
    }

    @Test
    void aSocketFactoryWithTlsTurnedOffIsRefused() {
        javax.net.ssl.SSLSocketFactory factory = (javax.net.ssl.SSLSocketFactory) javax.net.ssl.SSLSocketFactory
                .getDefault();
        assertTrue(RedisOptions.builder().sslSocketFactory(factory).build().ssl());
        assertRefused(RedisOptions.builder().sslSocketFactory(factory).uri("redis://host"), "sslSocketFactory", "ssl");
        assertRefused(RedisOptions.builder().sslSocketFactory(factory).ssl(false), "sslSocketFactory", "ssl");
        assertTrue(RedisOptions.builder().sslSocketFactory(factory).uri("rediss://host").build().ssl());
    }

    private static void assertRefused(RedisOptions.Builder b, String setting, String other) {
        IllegalStateException e = assertThrows(IllegalStateException.class, b::build);
        assertTrue(e.getMessage().startsWith(setting + " ("), e.getMessage());
        assertTrue(e.getMessage().contains(other), e.getMessage());
    }

    private static void assertMessageStarts(String setting, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(setting), e.getMessage());
    }

    @Test
    void onAClusterTheSharedStreamsKeysShareItsSlotAndAKeyOutsideItIsRefusedByName() {
        RedisOptions o = RedisOptions.builder().uri("redis-cluster://h:7000").build();
        assertEquals("{workflow:events:global}:", o.keyPrefix());
        assertEquals("{workflow:events:global}:dlq", o.deadLetterStream());
        assertEquals("{workflow:events:global}:retry", o.retryKey());
        // The same options on one server keep the names they always had.
        assertEquals("workflow:events:global:dlq", o.toBuilder().clusterNodes().build().deadLetterStream());
        assertEquals(RedisOptions.DEFAULT_KEY_PREFIX, o.toBuilder().clusterNodes().build().keyPrefix());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RedisOptions.builder().uri("redis-cluster://h:7000").deadLetterStream("elsewhere").build());
        assertTrue(e.getMessage().startsWith("deadLetterStream (elsewhere) must hash to the slot of stream"), e.getMessage());
        IllegalStateException prefix = assertThrows(IllegalStateException.class,
                () -> RedisOptions.builder().uri("redis-cluster://h:7000").keyPrefix("wf:").build());
        assertTrue(prefix.getMessage().startsWith("keyPrefix"), prefix.getMessage());
        IllegalStateException db = assertThrows(IllegalStateException.class,
                () -> RedisOptions.builder().database(2).clusterNodes("h:7000").build());
        assertTrue(db.getMessage().startsWith("database (2) must be 0"), db.getMessage());
    }

    @Test
    void onAClusterPartitionsAreSpreadEvenlyOverTheSlotRanges() {
        for (int p : new int[] {1, 3, 16, 100, 1024}) {
            RedisOptions o = RedisOptions.builder().clusterNodes("h:7000").stream("s").partitions(p).build();
            java.util.Set<String> keys = new java.util.HashSet<>();
            for (int i = 0; i < p; i++) {
                int slot = redis.clients.jedis.util.JedisClusterCRC16.getSlot(o.partitionStream(i));
                // Partition i's slot lies in the i-th of p equal slot ranges.
                assertEquals(i, (int) ((long) slot * p / 16384), "partition " + i + " of " + p + " in slot " + slot);
                assertTrue(keys.add(o.partitionStream(i)));
            }
        }
        assertEquals("{s#3}", RedisOptions.builder().stream("s").partitions(16).build().partitionStream(3));
    }

    @Test
    void waitForReplicasIsCheckedAndReadFromTheEnvironment() {
        RedisOptions o = RedisOptions.fromEnvironment(Map.of("REDIS_WAIT_REPLICAS", "1", "REDIS_WAIT_TIMEOUT_MS", "250"));
        assertEquals(1, o.waitReplicas());
        assertEquals(Duration.ofMillis(250), o.waitTimeout());
        assertEquals(1, o.toBuilder().build().waitReplicas());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RedisOptions.builder().waitForReplicas(-1, Duration.ofSeconds(1)));
        assertTrue(e.getMessage().startsWith("waitReplicas"), e.getMessage());
        IllegalArgumentException env = assertThrows(IllegalArgumentException.class,
                () -> RedisOptions.fromEnvironment(Map.of("REDIS_WAIT_REPLICAS", "many")));
        assertTrue(env.getMessage().startsWith("REDIS_WAIT_REPLICAS=many is invalid"), env.getMessage());
    }
}
