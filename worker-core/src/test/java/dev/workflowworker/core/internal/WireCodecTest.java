package dev.workflowworker.core.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The codec's helpers; its contract is tested through the public type, in WireFormatTest. */
class WireCodecTest {

    @Test
    void utf8LengthCountsMultiByteCharacters() {
        assertEquals(3, WireCodec.utf8Length("abc"));
        assertEquals(2, WireCodec.utf8Length("é"));
        assertEquals(3, WireCodec.utf8Length("€"));
        assertEquals(4, WireCodec.utf8Length("\uD83D\uDE00"));
    }
}
