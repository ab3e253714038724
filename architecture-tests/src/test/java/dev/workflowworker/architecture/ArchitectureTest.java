package dev.workflowworker.architecture;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The module boundaries, checked on the main classes of every module: a test class may reach
 * where its module's code may not. {@link ArchitectureRulesCanFailTest} shows each rule failing.
 */
@AnalyzeClasses(packages = "dev.workflowworker", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    static final String REDIS_SHARED = "dev.workflowworker.redis.internal.shared";
    static final String REDIS_PARTITIONED = "dev.workflowworker.redis.internal.partitioned";

    /** A host may depend on worker-api alone, so it must not drag in anything beyond the JDK. */
    @ArchTest
    static final ArchRule API_DEPENDS_ON_THE_JDK_ONLY = classes()
            .that().resideInAPackage("dev.workflowworker.api..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.workflowworker.api..")
            .because("worker-api is the dependency-free contract hosts and transports build on");

    /** What is internal may change in any release; only its own module may rely on it. */
    @ArchTest
    static final ArchRule NO_MODULE_REACHES_INTO_ANOTHER_MODULES_INTERNALS = classes()
            .should(notDependOnTheInternalsOfAnotherModule())
            .because("an internal package is no API: only its own module may use it");

    /** The engine runs on any transport; Redis is one of them, in its own module. */
    @ArchTest
    static final ArchRule CORE_KNOWS_NOTHING_OF_REDIS = noClasses()
            .that().resideInAPackage("dev.workflowworker.core..")
            .should().dependOnClassesThat().resideInAnyPackage("redis.clients..", "..redis..")
            .orShould().haveSimpleNameContaining("Redis")
            .because("worker-core must work with any transport; Redis lives in worker-redis");

    /** Metrics are an opt-in module; the engine only exposes counters. */
    @ArchTest
    static final ArchRule CORE_AND_API_KNOW_NOTHING_OF_MICROMETER = noClasses()
            .that().resideInAnyPackage("dev.workflowworker.core..", "dev.workflowworker.api..")
            .should().dependOnClassesThat().resideInAnyPackage("io.micrometer..", "dev.workflowworker.micrometer..")
            .because("Micrometer is optional: worker-micrometer binds it");

    /**
     * Spring, OpenTelemetry and the dashboard's servlet are what some hosts use; the contract, the
     * engine and the transport must run in a host that has none of them.
     */
    @ArchTest
    static final ArchRule ENGINE_AND_TRANSPORT_KNOW_NOTHING_OF_HOST_FRAMEWORKS = noClasses()
            .that().resideInAnyPackage("dev.workflowworker.api..", "dev.workflowworker.core..",
                    "dev.workflowworker.redis..")
            .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "io.opentelemetry..",
                    "jakarta.servlet..", "dev.workflowworker.spring..", "dev.workflowworker.opentelemetry..",
                    "dev.workflowworker.dashboard..")
            .because("worker-api, worker-core and worker-redis must embed in any host; the integrations build on them");

    /** Tracing must work with any transport: it wraps the contract's types only. */
    @ArchTest
    static final ArchRule TRACING_NEEDS_ONLY_THE_API_AND_OPENTELEMETRY = classes()
            .that().resideInAPackage("dev.workflowworker.opentelemetry..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.opentelemetry..",
                    "dev.workflowworker.api..", "dev.workflowworker.opentelemetry..")
            .because("worker-opentelemetry's only dependencies are worker-api and opentelemetry-api");

    /** The examples and benchmarks are never published, so nothing published may need them. */
    @ArchTest
    static final ArchRule NOTHING_DEPENDS_ON_EXAMPLES_OR_BENCHMARKS = noClasses()
            .that().resideOutsideOfPackages("dev.workflowworker.examples..", "dev.workflowworker.benchmarks..")
            .should().dependOnClassesThat()
            .resideInAnyPackage("dev.workflowworker.examples..", "dev.workflowworker.benchmarks..")
            .because("examples and benchmarks are not deployed");

    /**
     * The transport's two modes share the client layer only: what one shared stream needs never
     * reaches the partitioned mode's classes, nor the other way round (docs/ARCHITECTURE.md,
     * "Modules").
     */
    @ArchTest
    static final ArchRule REDIS_MODES_DO_NOT_DEPEND_ON_EACH_OTHER = classes()
            .that().resideInAnyPackage(REDIS_SHARED + "..", REDIS_PARTITIONED + "..")
            .should(notDependOnTheOtherMode())
            .because("the shared and the partitioned mode are chosen once, when a RedisEventTransport is made; "
                    + "what both need lives in internal.client");

    /** Time works over slots for both modes, so it knows neither (docs/ARCHITECTURE.md, "Time"). */
    @ArchTest
    static final ArchRule REDIS_TIME_KNOWS_NEITHER_MODE = noClasses()
            .that().resideInAPackage("dev.workflowworker.redis.internal.time..")
            .should().dependOnClassesThat().resideInAnyPackage(REDIS_SHARED + "..", REDIS_PARTITIONED + "..")
            .because("both modes use internal.time; a mode's class in it would reach the other mode");

    static ArchCondition<JavaClass> notDependOnTheOtherMode() {
        return new ArchCondition<>("not depend on the other Redis stream mode") {
            @Override
            public void check(JavaClass origin, ConditionEvents events) {
                String other = origin.getPackageName().startsWith(REDIS_SHARED) ? REDIS_PARTITIONED : REDIS_SHARED;
                for (Dependency d : origin.getDirectDependenciesFromSelf()) {
                    String target = d.getTargetClass().getPackageName();
                    if (target.equals(other) || target.startsWith(other + ".")) {
                        events.add(SimpleConditionEvent.violated(d, d.getDescription()));
                    }
                }
            }
        };
    }

    static ArchCondition<JavaClass> notDependOnTheInternalsOfAnotherModule() {
        return new ArchCondition<>("not depend on the internal packages of another module") {
            @Override
            public void check(JavaClass origin, ConditionEvents events) {
                String from = module(origin.getPackageName());
                for (Dependency d : origin.getDirectDependenciesFromSelf()) {
                    String target = d.getTargetClass().getPackageName();
                    if (isInternal(target) && !module(target).equals(from)) {
                        events.add(SimpleConditionEvent.violated(d, d.getDescription()));
                    }
                }
            }
        };
    }

    static boolean isInternal(String packageName) {
        return ("." + packageName + ".").contains(".internal.");
    }

    /**
     * The module a package belongs to: {@code dev.workflowworker.<module>} for ours, the first
     * three segments for a library's (so that a library's internals count as another module's).
     */
    static String module(String packageName) {
        String[] parts = packageName.split("\\.");
        return parts.length <= 3 ? packageName : String.join(".", parts[0], parts[1], parts[2]);
    }
}
