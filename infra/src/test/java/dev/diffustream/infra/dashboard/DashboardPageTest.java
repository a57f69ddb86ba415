package dev.diffustream.infra.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The page's static assets: self-contained, and carrying the ids tests and users rely on. */
class DashboardPageTest {

    private static String asset(String name) {
        return new String(Dashboard.resource(name), StandardCharsets.UTF_8);
    }

    @Test
    void shouldLoadNothingFromAnotherOriginWhenThePageIsServed() {
        // given the page, its script and its style sheet
        String html = asset("index.html");
        String js = asset("dashboard.js");
        String css = asset("dashboard.css");

        // then the page references only our own two assets
        Matcher refs = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(html);
        java.util.List<String> found = new java.util.ArrayList<>();
        while (refs.find()) {
            found.add(refs.group(1));
        }
        assertThat(found).containsExactlyInAnyOrder("dashboard.css", "dashboard.js");
        // and no asset names a remote address (the SVG namespace is an identifier, not a fetch)
        assertThat(html + css).doesNotContain("http://", "https://", "//cdn", "@import");
        assertThat(js.replace("'http://www.w3.org/2000/svg'", ""))
                .doesNotContain("http://", "https://", "eval(", "new Function");
        assertThat(Dashboard.CONTENT_SECURITY_POLICY).startsWith("default-src 'self'");
    }

    @Test
    void shouldCarryStableIdsForEveryHeadlineFigure() {
        String html = asset("index.html");
        for (String id :
                new String[] {
                    "run-id",
                    "policy-version",
                    "learner-step",
                    "reward-mean",
                    "reward-std",
                    "pass-at-1",
                    "pass-at-1-step",
                    "dead-letters",
                    "staleness-members",
                    "staleness-mean",
                    "staleness-histogram",
                    "outcomes",
                    "throughput",
                    "lag",
                    "plot-loss",
                    "plot-kl",
                    "plot-clip",
                    "plot-grad-norm",
                    "plot-reward",
                    "plot-pass-at-1",
                    "groups-total",
                    "outcomes-total"
                }) {
            assertThat(html).as(id).contains("id=\"" + id + "\"");
        }
        // and the script writes the per-row ids the tests read
        String js = asset("dashboard.js");
        assertThat(js)
                .contains(
                        "'outcome-' + name",
                        "'throughput-' + t.topic",
                        "'lag-' + r.label",
                        "'staleness-bucket-' + k3");
    }
}
