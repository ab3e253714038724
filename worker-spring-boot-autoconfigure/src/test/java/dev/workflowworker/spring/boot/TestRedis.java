package dev.workflowworker.spring.boot;

import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * One Redis server for the Spring tests of this JVM (REDIS_URL, a container, or a spawned
 * redis-server; see {@link RedisServerExtension#provide()}), stopped when the JVM exits.
 */
final class TestRedis {

    private static RedisServer server;

    private TestRedis() {
    }

    static synchronized RedisServer server() {
        if (server == null) {
            server = RedisServerExtension.provide();
            RedisServer s = server;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    s.close();
                } catch (Exception ignored) {
                    // the JVM is exiting; a spawned server dies with it
                }
            }));
        }
        return server;
    }

    /**
     * Points an application test at the server, on a stream of its own.
     *
     * @param registry the test's dynamic properties
     * @param stream   its stream, from {@link #stream}
     */
    static void register(DynamicPropertyRegistry registry, String stream) {
        registry.add("workflow.worker.redis.url", () -> server().uri());
        registry.add("workflow.worker.redis.stream", () -> stream);
    }

    /** {@return a stream name of its own for one test, so tests never see each other's events} */
    static String stream(String test) {
        return "spring-test:" + test + ":" + System.nanoTime();
    }
}
