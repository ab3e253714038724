package dev.workflowworker.redis.testsupport;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provides each test class with a Redis server and each test with an empty database. Inject it
 * as a {@link RedisServer} parameter:
 *
 * <pre>{@code
 * @ExtendWith(RedisServerExtension.class)
 * class MyTest {
 *     @Test void works(RedisServer redis) { ... redis.options().build() ... }
 * }
 * }</pre>
 *
 * The server is, in this order: the one named by the {@code REDIS_URL} environment variable
 * (its database is flushed before each test); a Testcontainers {@code redis:7} container when
 * Docker is available; a {@code redis-server} from {@code PATH} on a free port. Containers and
 * spawned servers are per test class and stopped after it. A server a test stopped is started
 * again before the next test.
 */
public final class RedisServerExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {

    private static final Logger log = LoggerFactory.getLogger(RedisServerExtension.class);
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RedisServerExtension.class);
    private static final String KEY = "server";

    @Override
    public void beforeAll(ExtensionContext context) {
        server(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        RedisServer server = server(context);
        if (server.isRestartable() && !server.isRunning()) {
            server.start();
        }
        server.flush();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == RedisServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext)
            throws ParameterResolutionException {
        return server(extensionContext);
    }

    private static RedisServer server(ExtensionContext context) {
        ExtensionContext classContext = classContext(context);
        return classContext.getStore(NS).getOrComputeIfAbsent(KEY, k -> provide(), RedisServer.class);
    }

    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
            c = c.getParent().get();
        }
        return c;
    }

    /**
     * Provides a server the first of three ways that works.
     *
     * @return the server, running
     * @throws IllegalStateException naming the three ways when none works
     */
    public static RedisServer provide() {
        String url = System.getenv("REDIS_URL");
        if (url != null && !url.isBlank()) {
            log.info("Tests use the Redis server of REDIS_URL");
            return new ExternalRedisServer(url.trim());
        }
        if (ContainerRedisServer.dockerAvailable()) {
            log.info("Tests use a redis:7 container");
            return ContainerRedisServer.startNew();
        }
        String executable = SpawnedRedisServer.findExecutable();
        if (executable != null) {
            SpawnedRedisServer server = SpawnedRedisServer.startNew(executable);
            log.info("Tests use {}", server);
            return server;
        }
        throw new IllegalStateException("No Redis for the tests. Provide one of: (1) REDIS_URL=redis://host:port "
                + "pointing at a disposable Redis, (2) a running Docker daemon for a Testcontainers redis:7, or "
                + "(3) redis-server on PATH (e.g. apt-get install redis-server).");
    }
}
