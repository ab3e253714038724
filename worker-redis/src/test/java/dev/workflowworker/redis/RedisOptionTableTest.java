package dev.workflowworker.redis;

import dev.workflowworker.core.Setting;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocketFactory;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The declared settings of {@link RedisOptions} against what the options show and copy. */
class RedisOptionTableTest {

    private static RedisOptions everySettingChanged() {
        return RedisOptions.builder().uri("rediss://alice:TopSecret42@cache.internal:6390/2")
                .sslSocketFactory((SSLSocketFactory) SSLSocketFactory.getDefault())
                .keyPrefix("wf:").stream("orders").deadLetterStream("orders:dead").retryKey("orders:later")
                .group("billing").groupStartId(RedisOptions.START_FROM_LATEST)
                .connectTimeout(Duration.ofSeconds(3)).socketTimeout(Duration.ofSeconds(4)).poolSize(5)
                .processedTtl(Duration.ofHours(2)).deadLetterMaxLength(500).maxPayloadBytes(2048)
                .retryPollInterval(Duration.ofMillis(250)).trimInterval(Duration.ofMinutes(2))
                .consumerRetention(Duration.ofMinutes(20)).partitions(4).partitionLeaseTtl(Duration.ofSeconds(3))
                .commitLinger(Duration.ofMillis(7))
                .waitForReplicas(1, Duration.ofMillis(250)).build();
    }

    @Test
    void everySettingSurvivesToBuilder() {
        RedisOptions o = everySettingChanged();
        RedisOptions copy = o.toBuilder().build();
        assertEquals(o.toString(), copy.toString());
        assertEquals(o.password(), copy.password());
        assertEquals(o.sslSocketFactory(), copy.sslSocketFactory());
        assertEquals(o.clusterNodes(), copy.clusterNodes());
    }

    @Test
    void toStringShowsEverySettingOutsideTheEndpointAndNeverThePassword() {
        RedisOptions o = everySettingChanged();
        String shown = o.toString();
        assertFalse(shown.contains("TopSecret42"), shown);
        assertTrue(shown.startsWith("RedisOptions{endpoint=" + o.endpoint() + ", "), shown);
        for (Setting<?> s : RedisOptionTable.SETTINGS.settings()) {
            assertEquals(!RedisOptionTable.IN_ENDPOINT.contains(s), shown.contains(", " + s.name() + "="),
                    s.name() + " in " + shown);
        }
    }

    @Test
    void eachDeclaredVariableIsReadByFromEnvironment() {
        String defaults = RedisOptions.builder().build().toString();
        for (Setting<?> s : RedisOptionTable.SETTINGS.settings()) {
            if (s.variable() != null) {
                String value = s.defaultValue() instanceof String ? "elsewhere" : "2";
                RedisOptions o = RedisOptions.fromEnvironment(Map.of(s.variable(), value));
                assertFalse(defaults.equals(o.toString()), s.variable() + "=" + value + " changed nothing");
            }
        }
    }
}
