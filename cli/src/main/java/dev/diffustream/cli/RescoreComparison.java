package dev.diffustream.cli;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Statistics of a run's AdvantageGroups before and after re-scoring ({@code diffustream rescore}),
 * and the group-by-group comparison of their advantages.
 */
public final class RescoreComparison {

    private RescoreComparison() {}

    /**
     * Figures of one set of AdvantageGroups.
     *
     * @param groups groups
     * @param trainable groups without a drop reason
     * @param dropped dropped groups by reason ({@code zero_variance}, {@code partial})
     * @param closeReasons groups by how they closed (COMPLETE, DEADLINE)
     * @param zeroVariance groups whose reward std is below the threshold (kept or dropped)
     * @param members members over all groups
     * @param rewardMean mean member reward over all groups
     * @param rewardStd standard deviation (population) of the member rewards
     * @param advantageMembers members of trainable groups (those the advantage figures cover)
     * @param advantageMean mean advantage over members of trainable groups
     * @param advantageStd standard deviation (population) of those advantages
     * @param advantageAbsMean mean |advantage|
     * @param advantageMin smallest advantage (0 without members)
     * @param advantageMax largest advantage (0 without members)
     */
    public record Summary(
            int groups,
            int trainable,
            Map<String, Integer> dropped,
            Map<String, Integer> closeReasons,
            int zeroVariance,
            long members,
            double rewardMean,
            double rewardStd,
            long advantageMembers,
            double advantageMean,
            double advantageStd,
            double advantageAbsMean,
            double advantageMin,
            double advantageMax) {

        /** Fraction of groups with zero reward variance (0 without groups). */
        public double zeroVarianceFraction() {
            return groups == 0 ? 0 : (double) zeroVariance / groups;
        }
    }

    /**
     * The comparison.
     *
     * @param original figures of the run's {@code advantages}
     * @param rescored figures of the re-scored ones
     * @param matched groups present in both
     * @param onlyOriginal groups only in the original
     * @param onlyRescored groups only in the re-scored set
     * @param changed matched groups with a member whose advantage or reward differs, or with
     *     another drop reason or member set
     * @param maxAbsAdvantageChange largest |Δ advantage| over members present in both
     * @param ratioMin smallest rescored/original advantage over members with |A| > 1e-9 on both
     *     sides (NaN without any)
     * @param ratioMedian median of those ratios
     * @param ratioMax largest of those ratios
     */
    public record Comparison(
            Summary original,
            Summary rescored,
            int matched,
            int onlyOriginal,
            int onlyRescored,
            int changed,
            double maxAbsAdvantageChange,
            double ratioMin,
            double ratioMedian,
            double ratioMax) {}

    /** The figures of {@code groups}. */
    public static Summary summarize(List<AdvantageGroup> groups) {
        int trainable = 0;
        int zero = 0;
        Map<String, Integer> dropped = new TreeMap<>();
        Map<String, Integer> closed = new TreeMap<>();
        long members = 0;
        double rSum = 0;
        double rSq = 0;
        long aMembers = 0;
        double aSum = 0;
        double aSq = 0;
        double aAbs = 0;
        double aMin = Double.POSITIVE_INFINITY;
        double aMax = Double.NEGATIVE_INFINITY;
        for (AdvantageGroup g : groups) {
            closed.merge(String.valueOf(g.getCloseReason()), 1, Integer::sum);
            if (g.getZeroVariance()) {
                zero++;
            }
            boolean train = g.getDropReason() == null;
            if (train) {
                trainable++;
            } else {
                dropped.merge(g.getDropReason(), 1, Integer::sum);
            }
            for (AdvantageMember m : g.getMembers()) {
                members++;
                rSum += m.getReward();
                rSq += m.getReward() * m.getReward();
                if (train) {
                    double a = m.getAdvantage();
                    aMembers++;
                    aSum += a;
                    aSq += a * a;
                    aAbs += Math.abs(a);
                    aMin = Math.min(aMin, a);
                    aMax = Math.max(aMax, a);
                }
            }
        }
        double rMean = members == 0 ? 0 : rSum / members;
        double aMean = aMembers == 0 ? 0 : aSum / aMembers;
        return new Summary(
                groups.size(),
                trainable,
                dropped,
                closed,
                zero,
                members,
                rMean,
                members == 0 ? 0 : Math.sqrt(Math.max(0, rSq / members - rMean * rMean)),
                aMembers,
                aMean,
                aMembers == 0 ? 0 : Math.sqrt(Math.max(0, aSq / aMembers - aMean * aMean)),
                aMembers == 0 ? 0 : aAbs / aMembers,
                aMembers == 0 ? 0 : aMin,
                aMembers == 0 ? 0 : aMax);
    }

    /** Compares the run's groups with the re-scored ones, group by group (by group id). */
    public static Comparison compare(List<AdvantageGroup> original, List<AdvantageGroup> rescored) {
        Map<String, AdvantageGroup> before = byId(original);
        Map<String, AdvantageGroup> after = byId(rescored);
        int matched = 0;
        int changed = 0;
        double maxDelta = 0;
        List<Double> ratios = new ArrayList<>();
        for (Map.Entry<String, AdvantageGroup> e : before.entrySet()) {
            AdvantageGroup b = e.getValue();
            AdvantageGroup a = after.get(e.getKey());
            if (a == null) {
                continue;
            }
            matched++;
            Map<String, AdvantageMember> am = new HashMap<>();
            for (AdvantageMember m : a.getMembers()) {
                am.put(m.getCompletionId(), m);
            }
            boolean differs =
                    !String.valueOf(b.getDropReason()).equals(String.valueOf(a.getDropReason()))
                            || b.getMembers().size() != a.getMembers().size();
            for (AdvantageMember mb : b.getMembers()) {
                AdvantageMember ma = am.get(mb.getCompletionId());
                if (ma == null) {
                    differs = true;
                    continue;
                }
                double delta = Math.abs(ma.getAdvantage() - mb.getAdvantage());
                maxDelta = Math.max(maxDelta, delta);
                if (delta != 0 || ma.getReward() != mb.getReward()) {
                    differs = true;
                }
                if (Math.abs(mb.getAdvantage()) > 1e-9 && Math.abs(ma.getAdvantage()) > 1e-9) {
                    ratios.add(ma.getAdvantage() / mb.getAdvantage());
                }
            }
            if (differs) {
                changed++;
            }
        }
        double[] r = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Comparison(
                summarize(new ArrayList<>(before.values())),
                summarize(new ArrayList<>(after.values())),
                matched,
                before.size() - matched,
                (int) after.keySet().stream().filter(k -> !before.containsKey(k)).count(),
                changed,
                maxDelta,
                r.length == 0 ? Double.NaN : r[0],
                r.length == 0 ? Double.NaN : median(r),
                r.length == 0 ? Double.NaN : r[r.length - 1]);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The last record of each group id (a group is emitted once; a duplicate would be a bug). */
    private static Map<String, AdvantageGroup> byId(List<AdvantageGroup> groups) {
        Map<String, AdvantageGroup> out = new TreeMap<>();
        for (AdvantageGroup g : groups) {
            out.put(g.getGroupId(), g);
        }
        return out;
    }

    /** The comparison as a two-column table. */
    public static List<String> table(Comparison c, String originalLabel, String rescoredLabel) {
        List<String> out = new ArrayList<>();
        Summary o = c.original();
        Summary n = c.rescored();
        String fmt = "%-26s %22s %22s";
        out.add(String.format(Locale.ROOT, fmt, "", originalLabel, rescoredLabel));
        row(out, fmt, "groups", o.groups(), n.groups());
        row(out, fmt, "trainable", o.trainable(), n.trainable());
        List<String> reasons = new ArrayList<>(o.dropped().keySet());
        n.dropped().keySet().stream().filter(k -> !reasons.contains(k)).forEach(reasons::add);
        for (String reason : reasons) {
            row(
                    out,
                    fmt,
                    "dropped: " + reason,
                    o.dropped().getOrDefault(reason, 0),
                    n.dropped().getOrDefault(reason, 0));
        }
        List<String> closes = new ArrayList<>(o.closeReasons().keySet());
        n.closeReasons().keySet().stream().filter(k -> !closes.contains(k)).forEach(closes::add);
        for (String close : closes) {
            row(
                    out,
                    fmt,
                    "closed: " + close.toLowerCase(Locale.ROOT),
                    o.closeReasons().getOrDefault(close, 0),
                    n.closeReasons().getOrDefault(close, 0));
        }
        out.add(
                String.format(
                        Locale.ROOT,
                        fmt,
                        "zero-variance fraction",
                        f3(o.zeroVarianceFraction()),
                        f3(n.zeroVarianceFraction())));
        row(out, fmt, "members", o.members(), n.members());
        out.add(
                String.format(
                        Locale.ROOT,
                        fmt,
                        "reward mean / std",
                        f3(o.rewardMean()) + " / " + f3(o.rewardStd()),
                        f3(n.rewardMean()) + " / " + f3(n.rewardStd())));
        out.add(
                String.format(
                        Locale.ROOT,
                        fmt,
                        "advantage mean / std",
                        f3(o.advantageMean()) + " / " + f3(o.advantageStd()),
                        f3(n.advantageMean()) + " / " + f3(n.advantageStd())));
        out.add(
                String.format(
                        Locale.ROOT,
                        fmt,
                        "advantage min / max",
                        f3(o.advantageMin()) + " / " + f3(o.advantageMax()),
                        f3(n.advantageMin()) + " / " + f3(n.advantageMax())));
        out.add(
                String.format(
                        Locale.ROOT,
                        fmt,
                        "mean |advantage|",
                        f3(o.advantageAbsMean()),
                        f3(n.advantageAbsMean())));
        out.add(
                String.format(
                        Locale.ROOT,
                        "groups in both %d (only original %d, only rescored %d); changed %d;"
                                + " max |Δ advantage| %.4f; rescored/original advantage ratio"
                                + " min %s median %s max %s",
                        c.matched(),
                        c.onlyOriginal(),
                        c.onlyRescored(),
                        c.changed(),
                        c.maxAbsAdvantageChange(),
                        f3(c.ratioMin()),
                        f3(c.ratioMedian()),
                        f3(c.ratioMax())));
        return out;
    }

    private static void row(List<String> out, String fmt, String name, long a, long b) {
        out.add(String.format(Locale.ROOT, fmt, name, a, b));
    }

    private static String f3(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
    }
}
