package dev.workflowworker.dashboard;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.redis.testsupport.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard in headless Chromium against a real service on a real Redis: what an operator
 * sees and does. Also writes the screenshots the README shows into {@code docs/}.
 */
@ExtendWith(RedisServerExtension.class)
class DashboardBrowserTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    static Path profile;

    private static ChromeDriver browser;
    private Fixture fixture;

    @BeforeAll
    static void startBrowser() throws Exception {
        browser = Browser.start(profile.resolve("chromium-profile"));
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @AfterEach
    void stopFixture() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void overviewLoadsWithoutConsoleErrorsAndShowsWhatTheAdminReads(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true);
        for (int i = 0; i < 12; i++) {
            fixture.publish("TICKET_CREATED", "acme", Map.of("ticket_id", "T-" + i));
        }
        for (int i = 0; i < 3; i++) {
            fixture.publish("ORDER_SHIP", "globex", Map.of("order", "O-" + i));
        }
        Await.until(WAIT, "12 successes and 3 dead letters", () ->
                fixture.count("TICKET_CREATED", EventOutcome.Kind.SUCCEEDED) == 12
                        && fixture.admin.deadLetterCount() == 3);
        browser.manage().logs().get(LogType.BROWSER); // drop entries of earlier tests

        browser.get(fixture.url);
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> text("c-succeeded").equals("12"));
        WorkflowAdmin.QueueStats stats = fixture.admin.stats();
        wait.until(d -> cell("deadLetters").equals("3"));
        assertEquals(String.valueOf(stats.length()), cell("length"));
        assertEquals(String.valueOf(stats.lag()), cell("lag"));
        assertEquals(String.valueOf(stats.pending()), cell("pending"));
        assertEquals(String.valueOf(stats.retryScheduled()), cell("retryScheduled"));
        assertEquals(String.valueOf(stats.deadLetters()), cell("deadLetters"));
        assertEquals(stats.stream(), cell("stream"));
        assertEquals("healthy", text("status"));
        assertEquals("3", text("c-dead"));
        wait.until(d -> browser.findElements(By.cssSelector("#workers tbody tr")).size() == 2);
        wait.until(d -> browser.findElements(By.cssSelector("#outcomes tbody tr")).size() == 15);
        // The chart has sampled the burst: wait for one more sample so the screenshot shows it.
        wait.until(d -> !"0".equals(browser.findElement(By.id("chart")).getDomAttribute("data-events"))
                && browser.findElement(By.id("chart")).getDomAttribute("data-events") != null);
        screenshot("dashboard-overview.png");

        List<LogEntry> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue()).collect(Collectors.toList());
        assertTrue(errors.isEmpty(), () -> "console errors: " + errors);
    }

    @Test
    void deadLetterFoundBySearchIsReplayedAndThenSucceeds(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true);
        for (int i = 0; i < 30; i++) {
            fixture.publish("NOISE", i % 2 == 0 ? "acme" : "globex", Map.of("n", i));
        }
        fixture.publish("ORDER_SHIP", "globex", Map.of("order", "O-77"));
        for (int i = 0; i < 5; i++) {
            fixture.publish("NOISE", "globex", Map.of("n", 100 + i));
        }
        Await.until(WAIT, "36 dead letters", () -> fixture.admin.deadLetterCount() == 36);
        String wanted = fixture.admin.deadLetters(null, 100).stream()
                .filter(e -> e.errorMessage().contains("O-77")).map(RedisDeadLetters.Entry::id).findFirst().orElseThrow();

        browser.get(fixture.url + "#dead-letters");
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> browser.findElements(By.cssSelector("#dl-rows tr")).size() == 25);
        screenshot("dashboard-dead-letters.png");
        type("dl-type", "order_ship");
        type("dl-tenant", "globex");
        type("dl-q", "WAREHOUSE");
        browser.findElement(By.id("dl-search")).click();
        wait.until(d -> browser.findElements(By.cssSelector("#dl-rows tr")).size() == 1);
        WebElement found = browser.findElement(By.cssSelector("#dl-rows tr"));
        assertEquals(wanted, found.getDomAttribute("data-id"));
        assertTrue(found.getText().contains("warehouse closed for order O-77"), found.getText());

        found.click();
        wait.until(d -> text("dl-detail-id").equals(wanted));
        assertTrue(text("dl-stack").contains("PermanentWorkflowException"), text("dl-stack"));
        assertTrue(text("dl-original").contains("\"O-77\""), text("dl-original"));
        screenshot("dashboard-dead-letter-detail.png");

        fixture.fixOrders.set(true);
        type("token", Fixture.TOKEN);
        browser.findElement(By.id("dl-replay-one")).click();
        wait.until(d -> text("message").equals("replayed " + wanted));
        Await.until(WAIT, "the replayed order to succeed",
                () -> fixture.count("ORDER_SHIP", EventOutcome.Kind.SUCCEEDED) == 1);
        assertEquals(35, fixture.admin.deadLetterCount());
        assertTrue(fixture.admin.deadLetter(wanted).isEmpty());
    }

    @Test
    void actionWithoutTheTokenIsRefusedAndChangesNothing(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true);
        browser.get(fixture.url);
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> text("status").equals("healthy"));
        browser.executeScript("sessionStorage.clear()");
        type("token", "");
        browser.findElement(By.id("pause")).click();
        wait.until(d -> text("message").startsWith("refused (401)"));
        assertFalse(fixture.service.isPaused());

        type("token", "not-the-operator-token-at-all");
        browser.findElement(By.id("pause")).click();
        wait.until(d -> text("message").startsWith("refused (401)") && !fixture.service.isPaused());

        type("token", Fixture.TOKEN);
        browser.findElement(By.id("pause")).click();
        wait.until(d -> fixture.service.isPaused() && !browser.findElement(By.id("paused")).getDomAttribute("class")
                .contains("hidden"));
        browser.findElement(By.id("resume")).click();
        wait.until(d -> !fixture.service.isPaused());
    }

    @Test
    void eventDataHoldingScriptAndHtmlIsShownAsText(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true);
        String note = "<img src=x onerror=\"window.__xss='img'\"><script>window.__xss='script'</script>";
        String tenant = "<b id=\"xss-bold\">bold</b>";
        fixture.publish("XSS_EVENT", tenant, Map.of("note", note));
        String evilType = "<script>window.__xss='type'</script>";
        fixture.publish(evilType, tenant, Map.of("x", "<iframe src=javascript:alert(1)>"));
        Await.until(WAIT, "both dead-lettered", () -> fixture.admin.deadLetterCount() == 2);

        browser.get(fixture.url);
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> browser.findElements(By.cssSelector("#outcomes tbody tr")).size() == 2);
        String outcomes = browser.findElement(By.id("outcomes")).getText();
        assertTrue(outcomes.contains(note), outcomes);
        assertTrue(outcomes.contains(tenant), outcomes);
        assertTrue(outcomes.contains(evilType), outcomes);

        browser.get(fixture.url + "#dead-letters");
        wait.until(d -> browser.findElements(By.cssSelector("#dl-rows tr")).size() == 2);
        String rows = browser.findElement(By.id("dl-rows")).getText();
        assertTrue(rows.contains(tenant), rows);
        assertTrue(rows.contains(evilType), rows);
        browser.findElements(By.cssSelector("#dl-rows tr")).stream().filter(r -> r.getText().contains("XSS_EVENT"))
                .findFirst().orElseThrow().click();
        wait.until(d -> text("dl-original").contains("window.__xss='script'"));

        assertTrue(browser.findElements(By.cssSelector("main img, main iframe, #xss-bold")).isEmpty(),
                "event data became markup");
        assertEquals(Boolean.TRUE, browser.executeScript("return window.__xss === undefined"), "a script ran");
    }

    private static String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private static String cell(String field) {
        return browser.findElement(By.cssSelector("#streams td[data-field='" + field + "']")).getText();
    }

    private static void type(String id, String value) {
        WebElement e = browser.findElement(By.id(id));
        e.clear();
        if (!value.isEmpty()) {
            e.sendKeys(value);
        }
    }

    /**
     * Screenshots go to target/screenshots, or where {@code -Ddashboard.screenshots=../docs} says
     * (how the README's pictures are refreshed), so a plain build leaves the repository untouched.
     */
    private static void screenshot(String name) throws Exception {
        Path dir = Paths.get(System.getProperty("dashboard.screenshots", "target/screenshots"));
        Files.createDirectories(dir);
        Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
