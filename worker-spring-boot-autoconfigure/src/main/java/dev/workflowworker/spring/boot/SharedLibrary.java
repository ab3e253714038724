package dev.workflowworker.spring.boot;

import org.springframework.boot.SpringBootVersion;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A library the host's Spring Boot manages and the workers share with the host (Jedis is not one:
 * worker-redis carries its own). Each names the oldest version the starter is tested with: the one
 * Boot 3.5, the oldest Boot line supported, manages. Boot's dependency management applies the
 * host's version to our transitive dependencies, so the host's Boot, not our POM, decides.
 *
 * @param name       as the user knows it
 * @param probeClass a class of the library whose package carries the jar's version
 * @param minimum    the oldest version tested, as {@code major.minor.patch}
 * @param boot3Property the Maven/Gradle property of Boot 3's dependency management that sets it
 * @param boot4Property the same for Boot 4
 */
record SharedLibrary(String name, String probeClass, String minimum, String boot3Property, String boot4Property) {

    static final List<SharedLibrary> ALL = List.of(
            // Boot 4 manages Jackson 3 under jackson-bom.version; Jackson 2, which we use, moved to its own property
            new SharedLibrary("jackson-databind", "com.fasterxml.jackson.databind.ObjectMapper", "2.19.0",
                    "jackson-bom.version", "jackson-2-bom.version"),
            new SharedLibrary("micrometer-core", "io.micrometer.core.instrument.MeterRegistry", "1.15.0",
                    "micrometer.version", "micrometer.version"),
            new SharedLibrary("opentelemetry-api", "io.opentelemetry.api.OpenTelemetry", "1.49.0",
                    "opentelemetry.version", "opentelemetry.version"));

    /** The owner in a NoSuchMethodError's message: {@code 'void com.example.Type.method(int)'}. */
    private static final Pattern MEMBER_OWNER = Pattern.compile("^'?\\S+ ([\\w.$]+)\\.[\\w$<>]+\\(");

    /**
     * The library a linkage error's message points at, if it is one of these: the owner of a
     * missing method, or the missing class itself.
     */
    static Optional<SharedLibrary> owning(String linkageMessage) {
        Matcher member = MEMBER_OWNER.matcher(linkageMessage);
        String owner = (member.find() ? member.group(1) : linkageMessage).replace('/', '.');
        for (SharedLibrary library : ALL) {
            String probe = library.probeClass;
            // the first two package segments tell them apart (com.fasterxml, io.micrometer, io.opentelemetry)
            String root = probe.substring(0, probe.indexOf('.', probe.indexOf('.') + 1) + 1);
            if (owner.startsWith(root)) {
                return Optional.of(library);
            }
        }
        return Optional.empty();
    }

    /** {@return the version on the class path, or empty when the library is absent or its jar names none} */
    Optional<String> versionOnClassPath() {
        try {
            Class<?> probe = Class.forName(probeClass, false, SharedLibrary.class.getClassLoader());
            return Optional.ofNullable(probe.getPackage().getImplementationVersion());
        } catch (ClassNotFoundException | LinkageError absent) {
            return Optional.empty();
        }
    }

    /** {@return the property that sets this library's version in the running Boot's dependency management} */
    String property(String bootVersion) {
        return bootVersion != null && bootVersion.startsWith("3.") ? boot3Property : boot4Property;
    }

    /** {@return what to do: the property and the version to give it} */
    String action(String bootVersion) {
        String property = property(bootVersion);
        return "Set the build property " + property + " to " + minimum + " or newer, e.g. in Maven's pom.xml "
                + "<properties><" + property + ">" + minimum + "</" + property + "></properties> or Gradle's "
                + "ext['" + property + "'] = '" + minimum + "', or remove the override that holds it back. "
                + "Spring Boot's dependency management applies that property to workflow-worker's dependencies too.";
    }

    static String runningBoot() {
        return SpringBootVersion.getVersion();
    }

    /** Whether {@code version} is at least {@code floor}, comparing numeric parts; qualifiers are ignored. */
    static boolean atLeast(String version, String floor) {
        int[] v = numbers(version);
        int[] f = numbers(floor);
        for (int i = 0; i < f.length; i++) {
            int part = i < v.length ? v[i] : 0;
            if (part != f[i]) {
                return part > f[i];
            }
        }
        return true;
    }

    private static int[] numbers(String version) {
        String[] parts = version.split("[.-]");
        int[] out = new int[Math.min(parts.length, 3)];
        for (int i = 0; i < out.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException qualifier) {
                return java.util.Arrays.copyOf(out, i);
            }
        }
        return out;
    }
}
