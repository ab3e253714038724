package dev.workflowworker.redis.internal.client;

import dev.workflowworker.redis.RedisOptions;


import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class RedisUriTest {

    @Test
    void partsAreParsedAndThePasswordNeverPrinted() {
        RedisUri u = RedisUri.parse("rediss://alice:p+w%3Ard@[::1]:6390/2");
        assertEquals("::1", u.host());
        assertEquals(6390, u.port());
        assertEquals("alice", u.user());
        assertEquals("p+w:rd", u.password());
        assertEquals(2, u.database());
        assertEquals("rediss://alice:***@[::1]:6390/2", u.toString());
    }

    @Test
    void anEmptyPasswordIsNoPassword() {
        RedisUri u = RedisUri.parse("redis://bob:@host");
        assertEquals("bob", u.user());
        assertNull(u.password());
        assertEquals("redis://bob@host:6379", u.toString());
    }

    @Test
    void redactMasksUserInfoOfWellFormedAndMalformedUris() {
        assertEquals("redis://***@host:1", RedisUri.redact("redis://u:secret@host:1"));
        assertEquals("***@host", RedisUri.redact("u:sec@ret@host"));
        assertEquals("redis://host", RedisUri.redact("redis://host"));
    }

    @Test
    void aClusterUriListsItsSeedNodesAndNeverPrintsThePassword() {
        RedisUri u = RedisUri.parse("rediss-cluster://alice:s%40cret@10.0.0.1:7000, 10.0.0.2 ,[::1]:7002");
        assertEquals(java.util.List.of("10.0.0.1:7000", "10.0.0.2:6379", "[::1]:7002"), u.clusterNodes());
        assertEquals("alice", u.user());
        assertEquals("s@cret", u.password());
        assertEquals(true, u.ssl());
        assertEquals("rediss-cluster://alice:***@10.0.0.1:7000,10.0.0.2:6379,[::1]:7002", u.toString());
        RedisOptions o = RedisOptions.fromUri("redis-cluster://h1:7000,h2:7001");
        assertEquals(true, o.cluster());
        assertEquals("redis-cluster://h1:7000,h2:7001", o.endpoint());
    }

    @Test
    void aMalformedClusterUriIsRefusedNamingTheProblemNotThePassword() {
        IllegalArgumentException port = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> RedisUri.parse("redis-cluster://u:topsecret@h1:70000"));
        org.junit.jupiter.api.Assertions.assertTrue(port.getMessage().startsWith("uri: port must be in 1..65535"), port.getMessage());
        org.junit.jupiter.api.Assertions.assertFalse(port.getMessage().contains("topsecret"));
        IllegalArgumentException db = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> RedisUri.parse("redis-cluster://h1:7000/3"));
        org.junit.jupiter.api.Assertions.assertTrue(db.getMessage().contains("only database 0"), db.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> RedisUri.parse("redis-cluster://"));
    }
}
