package dev.workflowworker.redis.testsupport;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;

/**
 * Owns the {@link SpawnedCluster} of a test class: spawned once per class (in its class-level
 * store, so JUnit closes it after the class's last test), handed to the class's static
 * {@link SpawnedRedisCluster} fields and parameters, and made {@link SpawnedCluster#before} for
 * each test.
 */
public final class SpawnedClusterExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SpawnedClusterExtension.class);
    private static final String KEY = "cluster";
    private static final Duration HEALTHY_WITHIN = Duration.ofSeconds(30);

    @Override
    public void beforeAll(ExtensionContext context) throws IllegalAccessException {
        SpawnedRedisCluster cluster = cluster(context);
        for (Class<?> c = context.getRequiredTestClass(); c != null; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) && f.getType() == SpawnedRedisCluster.class) {
                    f.setAccessible(true);
                    f.set(null, cluster);
                }
            }
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        SpawnedCluster.Before before = settings(context).before();
        if (before != SpawnedCluster.Before.AS_LEFT) {
            SpawnedRedisCluster cluster = cluster(context);
            cluster.awaitHealthy(HEALTHY_WITHIN);
            if (before == SpawnedCluster.Before.EMPTY) {
                cluster.flush();
            }
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == SpawnedRedisCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return cluster(context);
    }

    private static SpawnedCluster settings(ExtensionContext context) {
        return AnnotationSupport.findAnnotation(context.getRequiredTestClass(), SpawnedCluster.class)
                .orElseThrow(() -> new IllegalStateException(context.getRequiredTestClass().getName()
                        + " uses SpawnedClusterExtension without @SpawnedCluster"));
    }

    private static SpawnedRedisCluster cluster(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
            c = c.getParent().get();
        }
        SpawnedCluster s = settings(c);
        // An AutoCloseable in the store is closed when its context (the class) ends.
        return c.getStore(NS).getOrComputeIfAbsent(KEY, k -> SpawnedRedisCluster.start(s.masters(), s.replicas(),
                s.args()), SpawnedRedisCluster.class);
    }
}
