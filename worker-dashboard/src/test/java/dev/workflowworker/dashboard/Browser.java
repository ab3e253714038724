package dev.workflowworker.dashboard;

import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;

/**
 * Headless Chromium for the browser tests: Debian's {@code chromium} and {@code chromedriver}, or
 * the binaries named by {@code CHROME_BIN} and {@code CHROMEDRIVER}. A missing browser fails the
 * test with the command that installs it: these tests are the proof the page works.
 */
final class Browser {

    private Browser() {
    }

    static ChromeDriver start(Path profileDir) throws IOException {
        File chrome = binary("CHROME_BIN", "/usr/bin/chromium");
        File driver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chrome);
        // The machine has no network: nothing may reach out (updates, sync, QUIC probes).
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--user-data-dir=" + Files.createDirectories(profileDir).toAbsolutePath());
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver)
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private static File binary(String env, String fallback) {
        String path = System.getenv(env);
        File f = new File(path == null || path.isBlank() ? fallback : path);
        if (!f.canExecute()) {
            throw new IllegalStateException("the dashboard's browser tests need headless Chromium and its driver: "
                    + f + " is missing. Install them with `sudo apt-get install -y chromium chromium-driver` "
                    + "(Debian/Ubuntu; .ci/run does this), or point " + env + " at the binary.");
        }
        return f;
    }
}
