using System.Net;
using System.Text;
using Observer.Commands;
using Observer.State;

namespace Observer.Monitoring;

/// <summary>
/// The status page at /: what `observer status` says, for a person, refreshing itself every few seconds. Plain HTML
/// and inline CSS, no script, so it shows in any browser and under a strict Content-Security-Policy.
/// </summary>
public static class StatusPage
{
    public const int RefreshSeconds = 5;

    public static string Render(StatusSnapshot? snapshot, string version)
    {
        var html = new StringBuilder();
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{{RefreshSeconds}}">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Observer: {{(snapshot is null ? "no state" : E(snapshot.Level.Heading()))}}</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
            table{border-collapse:collapse;margin:.5em 0 1.5em} th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
            td.n{text-align:right} code{background:#f3f3f3;padding:.1em .3em;white-space:nowrap}
            .ok{color:#176c2c} .attention{color:#a15c00} .down{color:#b00020}
            h1 span{font-size:.6em;font-weight:normal;color:#666}
            </style></head><body>
            """);
        if (snapshot is null)
        {
            html.Append("<h1 class=\"down\" id=\"health\">No state database yet</h1><p>Nothing has been replicated; the service creates it as it starts.</p>");
            return Close(html, version);
        }
        html.Append($"<h1 id=\"health\" class=\"{snapshot.Level.Word()}\">Health: {E(snapshot.Level.Heading())} <span>reading from {E(snapshot.Promoted ?? snapshot.PrimaryName)}" +
                    $"{(snapshot.Promoted is null ? "" : " (promoted)")}; lag budget {E(StatusCommand.FormatLag(snapshot.MaxLag))}</span></h1>");
        foreach (var check in snapshot.PendingChecks)
            html.Append($"<p class=\"attention\">Failover: {E(check.Server)} is not compared with {E(check.Failover.NewPrimary)} yet; nothing is written to it until it answers.</p>");
        html.Append("<table id=\"replicas\"><thead><tr><th>Account</th><th>Replica</th><th>Mode</th><th>Service</th><th>Lag</th><th>Folders</th><th>Messages</th>" +
                    "<th>Pending</th><th>Health</th></tr></thead><tbody>");
        foreach (var unit in snapshot.Units)
        {
            var problems = unit.Problems.Where(p => p.Level > HealthLevel.Ok).Select(p => p.Text).ToList();
            html.Append($"<tr><td>{E(AccountCell(unit))}</td><td>{E(unit.ReplicaName)}</td><td>{E(unit.Replica?.Mode ?? unit.Unit.Target.Mode)}</td>" +
                        $"<td>{E(unit.DescribeService())}</td><td class=\"n\">{E(unit.Replica is null ? "-" : StatusCommand.OverallLag(unit))}</td>" +
                        $"<td class=\"n\">{unit.Folders.Count}</td><td class=\"n\">{unit.Messages}</td><td class=\"n\">{unit.PendingWrites}</td>" +
                        $"<td class=\"{unit.Level.Word()}\">{E(problems.Count == 0 ? "ok" : string.Join("; ", problems))}</td></tr>");
        }
        html.Append("</tbody></table>");
        Troubles(html, snapshot);
        Holds(html, snapshot);
        Delayed(html, snapshot);
        return Close(html, version);
    }

    private static void Troubles(StringBuilder html, StatusSnapshot snapshot)
    {
        var rows = snapshot.Units.SelectMany(u => u.Troubles.Values.Select(t => (Unit: u, Trouble: t))).ToList();
        if (rows.Count == 0) return;
        html.Append("<h2>Folders in trouble</h2><table id=\"troubles\"><thead><tr><th>Account</th><th>Replica</th><th>Folder</th><th>Error</th><th>Since</th><th>Attempts</th>" +
                    "<th>Next attempt</th></tr></thead><tbody>");
        foreach (var (unit, t) in rows)
            html.Append($"<tr><td>{E(AccountCell(unit))}</td><td>{E(unit.ReplicaName)}</td><td>{E(t.Folder)}</td><td>{E(t.Error)}</td><td>{E(StatusCommand.Format(t.Since))}</td>" +
                        $"<td class=\"n\">{t.Attempts}</td><td>{E(StatusCommand.Format(t.NextAttempt))}</td></tr>");
        html.Append("</tbody></table>");
    }

    private static void Holds(StringBuilder html, StatusSnapshot snapshot)
    {
        var rows = snapshot.Units.SelectMany(u => u.Holds.Select(h => (Unit: u, Hold: h))).ToList();
        if (rows.Count == 0) return;
        html.Append("<h2>Held deletions</h2><p>New mail and flags still replicate; only these deletions wait for an admin.</p>" +
                    "<table id=\"holds\"><thead><tr><th>Account</th><th>Replica</th><th>Folder</th><th>Held</th><th>Why</th><th>Approve with</th></tr></thead><tbody>");
        foreach (var (unit, h) in rows)
        {
            var what = h.Kind == HoldKind.Folder ? "deleting the folder" : $"deleting {h.Count} messages";
            var approve = h.ApprovedAt is { } at ? $"approved {E(StatusCommand.Format(at))}; applied at the next sync" : $"<code>{E(StatusCommand.ApproveCommandLine(unit, h.Folder))}</code>";
            html.Append($"<tr><td>{E(AccountCell(unit))}</td><td>{E(unit.ReplicaName)}</td><td>{E(h.Folder)}</td><td>{E(what)} since {E(StatusCommand.Format(h.Since))}</td>" +
                        $"<td>{E(h.Reason)}</td><td>{approve}</td></tr>");
        }
        html.Append("</tbody></table>");
    }

    private static void Delayed(StringBuilder html, StatusSnapshot snapshot)
    {
        var rows = snapshot.Units.Where(u => u.Delayed?.Summary() is not null).ToList();
        if (rows.Count == 0) return;
        html.Append("<h2>Held by a delay</h2><ul>");
        foreach (var unit in rows) html.Append($"<li>{E(unit.Label)}: {E(unit.Delayed!.Summary()!)}</li>");
        html.Append("</ul>");
    }

    private static string Close(StringBuilder html, string version)
    {
        html.Append($"<p><small>observer {E(version)}; this page refreshes every {RefreshSeconds} s; <a href=\"/metrics\">metrics</a>, <a href=\"/healthz\">health</a></small></p></body></html>\n");
        return html.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The one account of settings without an Accounts list has no name.</summary>
    private static string AccountCell(UnitStatus unit) => unit.Account.Length > 0 ? unit.Account : "-";
}
