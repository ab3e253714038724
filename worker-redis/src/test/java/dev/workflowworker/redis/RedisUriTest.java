package dev.workflowworker.redis;

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
}
