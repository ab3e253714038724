package dev.workflowworker.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import dev.workflowworker.api.archfixture.ApiUsingALibrary;
import dev.workflowworker.core.archfixture.CoreUsingItsOwnInternals;
import dev.workflowworker.core.archfixture.CoreUsingJedis;
import dev.workflowworker.core.archfixture.CoreUsingMicrometer;
import dev.workflowworker.core.archfixture.CoreUsingTheRedisModule;
import dev.workflowworker.core.archfixture.RedisFlavouredCoreClass;
import dev.workflowworker.redis.archfixture.RedisUsingCoreInternals;
import dev.workflowworker.redis.archfixture.RedisUsingTheExamples;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each rule of {@link ArchitectureTest} fails on a fixture that breaks it (the fixtures are test
 * classes, which the real check leaves out), and the real check sees every module's classes: a
 * rule over nothing would pass however the code looked.
 */
class ArchitectureRulesCanFailTest {

    private static void assertViolated(ArchRule rule, Class<?> fixture, String expected) {
        EvaluationResult result = rule.evaluate(new ClassFileImporter().importClasses(fixture));
        assertTrue(result.hasViolation(), fixture.getSimpleName() + " should break: " + rule.getDescription());
        String report = result.getFailureReport().toString();
        assertTrue(report.contains(expected), report);
    }

    @Test
    void apiRuleFailsOnALibraryType() {
        assertViolated(ArchitectureTest.API_DEPENDS_ON_THE_JDK_ONLY, ApiUsingALibrary.class, "org.slf4j.Logger");
    }

    @Test
    void internalsRuleFailsOnAnotherModulesInternalsOnly() {
        assertViolated(ArchitectureTest.NO_MODULE_REACHES_INTO_ANOTHER_MODULES_INTERNALS,
                RedisUsingCoreInternals.class, "dev.workflowworker.core.internal.WireCodec");
        assertFalse(ArchitectureTest.NO_MODULE_REACHES_INTO_ANOTHER_MODULES_INTERNALS
                .evaluate(new ClassFileImporter().importClasses(CoreUsingItsOwnInternals.class)).hasViolation());
    }

    @Test
    void redisInternalsRuleFailsOnTheDashboard() {
        assertViolated(ArchitectureTest.NO_MODULE_REACHES_INTO_ANOTHER_MODULES_INTERNALS,
                dev.workflowworker.dashboard.archfixture.DashboardUsingRedisInternals.class,
                "dev.workflowworker.redis.internal.client.StreamEntries");
    }

    @Test
    void redisModesRuleFailsEitherWay() {
        assertViolated(ArchitectureTest.REDIS_MODES_DO_NOT_DEPEND_ON_EACH_OTHER,
                dev.workflowworker.redis.internal.shared.archfixture.SharedModeUsingPartitions.class,
                "dev.workflowworker.redis.internal.partitioned.PartitionLog");
        assertViolated(ArchitectureTest.REDIS_MODES_DO_NOT_DEPEND_ON_EACH_OTHER,
                dev.workflowworker.redis.internal.partitioned.archfixture.PartitionedModeUsingTheSharedConsumer.class,
                "dev.workflowworker.redis.internal.shared.RedisConsumer");
        assertFalse(ArchitectureTest.REDIS_MODES_DO_NOT_DEPEND_ON_EACH_OTHER
                .evaluate(new ClassFileImporter().importClasses(
                        dev.workflowworker.redis.internal.shared.archfixture.SharedModeUsingTheClient.class))
                .hasViolation(), "both modes may use internal.client");
    }

    @Test
    void redisTimeRuleFailsOnAModesClass() {
        assertViolated(ArchitectureTest.REDIS_TIME_KNOWS_NEITHER_MODE,
                dev.workflowworker.redis.internal.time.archfixture.TimeUsingTheSharedStream.class,
                "dev.workflowworker.redis.internal.shared.SharedStream");
    }

    @Test
    void moduleOfAPackage() {
        assertEquals("dev.workflowworker.core", ArchitectureTest.module("dev.workflowworker.core.internal"));
        assertEquals("dev.workflowworker.core", ArchitectureTest.module("dev.workflowworker.core"));
        assertEquals("io.micrometer.core", ArchitectureTest.module("io.micrometer.core.instrument.internal"));
        assertTrue(ArchitectureTest.isInternal("dev.workflowworker.core.internal"));
        assertTrue(ArchitectureTest.isInternal("a.internal.b"));
        assertFalse(ArchitectureTest.isInternal("dev.workflowworker.core.internalish"));
    }

    @Test
    void redisRuleFailsOnTheClientTheModuleAndTheName() {
        assertViolated(ArchitectureTest.CORE_KNOWS_NOTHING_OF_REDIS, CoreUsingJedis.class,
                "redis.clients.jedis.RedisClient");
        assertViolated(ArchitectureTest.CORE_KNOWS_NOTHING_OF_REDIS, CoreUsingTheRedisModule.class,
                "dev.workflowworker.redis.RedisOptions");
        assertViolated(ArchitectureTest.CORE_KNOWS_NOTHING_OF_REDIS, RedisFlavouredCoreClass.class,
                "RedisFlavouredCoreClass");
    }

    @Test
    void micrometerRuleFailsOnAMeterRegistry() {
        assertViolated(ArchitectureTest.CORE_AND_API_KNOW_NOTHING_OF_MICROMETER, CoreUsingMicrometer.class,
                "io.micrometer.core.instrument.MeterRegistry");
    }

    @Test
    void examplesRuleFailsOnAPublishedClassUsingThem() {
        assertViolated(ArchitectureTest.NOTHING_DEPENDS_ON_EXAMPLES_OR_BENCHMARKS, RedisUsingTheExamples.class,
                "dev.workflowworker.examples.Main");
    }

    @Test
    void hostFrameworksRuleFailsOnTracingInTheTransport() {
        assertViolated(ArchitectureTest.ENGINE_AND_TRANSPORT_KNOW_NOTHING_OF_HOST_FRAMEWORKS,
                dev.workflowworker.redis.archfixture.RedisUsingOpenTelemetry.class, "io.opentelemetry.api.trace.Tracer");
    }

    @Test
    void tracingRuleFailsOnTheEngine() {
        assertViolated(ArchitectureTest.TRACING_NEEDS_ONLY_THE_API_AND_OPENTELEMETRY,
                dev.workflowworker.opentelemetry.archfixture.TracingUsingTheEngine.class,
                "dev.workflowworker.core.WorkerService");
    }

    @Test
    void theRealCheckSeesTheMainClassesOfEveryModuleAndNoTestClass() {
        JavaClasses main = new ClassFileImporter().withImportOption(new ImportOption.DoNotIncludeTests())
                .importPackages("dev.workflowworker");
        Set<String> packages = main.stream().map(c -> ArchitectureTest.module(c.getPackageName()))
                .collect(Collectors.toSet());
        for (String module : new String[] {"api", "core", "redis", "micrometer", "dashboard", "opentelemetry", "spring",
                "examples", "benchmarks"}) {
            assertTrue(packages.contains("dev.workflowworker." + module), module + " missing from " + packages);
        }
        assertFalse(main.contain(ArchitectureRulesCanFailTest.class));
        assertFalse(main.contain(ApiUsingALibrary.class));
        assertFalse(main.stream().anyMatch(c -> c.getPackageName().contains("testsupport")),
                "a test-jar was imported");
    }
}
