package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A publish whose reply was lost with its connection is sent again by the transport itself (the
 * first send may have written the event, so the stream may hold it twice), and the transport's
 * statistics count it: {@code StreamStats.publishedAgain}. A producer that counts only its own
 * retries would otherwise not know how many copies the library made (the chaos run bounds the
 * poison events dead-lettered twice by both).
 */
@ExtendWith(RedisServerExtension.class)
class PublishedAgainTest {

    @Test
    void aPublishSentAgainAfterItsReplyWasLostIsCountedOnTheSharedStream(RedisServer redis) throws Exception {
        publishThroughALostReply(redis, 0);
    }

    @Test
    void aPublishSentAgainAfterItsReplyWasLostIsCountedOnAPartitionedStream(RedisServer redis) throws Exception {
        publishThroughALostReply(redis, 4);
    }

    private static void publishThroughALostReply(RedisServer redis, int partitions) throws Exception {
        java.net.URI u = java.net.URI.create(redis.uri());
        try (ReplyProxy proxy = new ReplyProxy(u.getHost(), u.getPort());
             RedisEventTransport t = RedisEventTransport.create(RedisOptions.builder()
                     .uri("redis://127.0.0.1:" + proxy.port()).partitions(partitions).build());
             RedisClient c = redis.client()) {
            t.publish(WorkflowEvent.builder("T").eventId("warm").executionId("x").build());
            assertEquals(0, t.stats().orElseThrow().publishedAgain(), "nothing sent again yet");

            proxy.dropReplyTo("XADD");
            t.publish(WorkflowEvent.builder("T").eventId("e1").executionId("x").build());
            assertEquals(1, proxy.dropped(), "the first send's reply was lost");
            String stream = partitions == 0 ? t.options().stream() : TestKeys.partitionStream(t.options(),
                    PartitionRouting.partitionOf("x", partitions));
            assertEquals(3, c.xlen(stream), "the event is in the stream twice: the first send ran");
            assertEquals(1, t.stats().orElseThrow().publishedAgain(), "the transport counts the event it sent again");

            t.publishAll(List.of(WorkflowEvent.builder("T").eventId("e2").executionId("x").build(),
                    WorkflowEvent.builder("T").eventId("e3").executionId("x").build()));
            assertEquals(1, t.stats().orElseThrow().publishedAgain(), "a publish answered the first time is not counted");
        }
    }
}
