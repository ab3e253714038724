package dev.workflowworker.redis.testsupport;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Gives a test class one local Redis Cluster ({@link SpawnedRedisCluster}), spawned before its
 * first test and stopped after its last, through {@link SpawnedClusterExtension}: a static field
 * of type {@link SpawnedRedisCluster} is set to it, and a parameter of that type resolves to it.
 *
 * <pre>{@code
 * @SpawnedCluster(masters = 3, replicas = 1, before = SpawnedCluster.Before.EMPTY)
 * class MyClusterTest {
 *     private static SpawnedRedisCluster cluster;
 *     @Test void works() { ... cluster.options().build() ... }
 * }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(SpawnedClusterExtension.class)
public @interface SpawnedCluster {

    /** What each test finds. */
    enum Before {
        /** The cluster as the previous test left it. */
        AS_LEFT,
        /** Every slot served and every node agreeing (a node frozen past the node timeout leaves it down a moment). */
        HEALTHY,
        /** Healthy, and no key on any master. */
        EMPTY
    }

    /** {@return how many masters (at least 3)} */
    int masters() default 3;

    /** {@return replicas of each master} */
    int replicas() default 0;

    /** {@return further configuration of every node, e.g. {@code {"--appendonly", "yes"}}} */
    String[] args() default {};

    /** {@return what each test finds} */
    Before before() default Before.AS_LEFT;
}
