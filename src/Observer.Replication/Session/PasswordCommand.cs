using System.Diagnostics;
using Observer.Mail;

namespace Observer.Replication;

/// <summary>
/// Runs a login's PasswordCommand (as isync's PassCmd): `/bin/sh -c COMMAND`, whose first line of output is the
/// password or OAuth access token. Run at each login, so a token helper can hand out a fresh token every time.
/// Neither its output nor its stderr is ever logged or stored (a helper run with `set -x` or `curl -v` writes secrets
/// there); its failures are told in one line that names the setting and the exit code.
/// </summary>
public static class PasswordCommand
{
    public static async Task<string> RunAsync(EndpointOptions endpoint, string role, CancellationToken cancellationToken)
    {
        var setting = endpoint.SettingsPrefix(role) + "PasswordCommand";
        var start = new ProcessStartInfo("/bin/sh")
        {
            // Its stderr goes nowhere: it may hold secrets (`set -x`, `curl -v`), and would otherwise reach the journal.
            ArgumentList = { "-c", "exec 2>/dev/null\n" + endpoint.PasswordCommand! },
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = endpoint.SettingsDirectory ?? Environment.CurrentDirectory,
        };
        // What a helper serving several accounts needs to know which token to give.
        start.Environment["OBSERVER_USERNAME"] = endpoint.Username;
        start.Environment["OBSERVER_HOST"] = endpoint.Host;
        start.Environment["OBSERVER_ROLE"] = role;
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ImapAuthenticationException($"{setting}: cannot run /bin/sh: {ex.Message}");
        }
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(endpoint.PasswordCommandTimeout);
        // Only the first line counts: read it as soon as it comes, so a helper that leaves a child holding its output
        // open (`daemon &`) is not waited for.
        var output = process.StandardOutput.ReadLineAsync(deadline.Token).AsTask();
        try
        {
            await Task.WhenAll(process.WaitForExitAsync(deadline.Token), output).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile, or a child we may not signal: the deadline's message says enough.
            }
            cancellationToken.ThrowIfCancellationRequested();
            // A helper that hangs (an OAuth server that does not answer) may answer next time: retried with the reconnect backoff.
            throw new ImapAuthenticationException($"{setting} gave no answer within {endpoint.PasswordCommandTimeout.TotalSeconds:0} s for the {role}; it was stopped, and is run again at the next attempt",
                new ResponseCode(ResponseCodeKind.Unavailable, "UNAVAILABLE"));
        }
        if (process.ExitCode is 126 or 127)
            throw new ImapAuthenticationException($"{setting} could not be run for the {role} (exit {process.ExitCode}); check the command and its path " +
                                                  "(run it by hand as the user observer runs as to see why)");
        if (process.ExitCode != 0)
            throw new ImapAuthenticationException($"{setting} failed for the {role} (exit {process.ExitCode}); it is run again at the next attempt " +
                                                  "(its messages are not shown, as they may hold secrets: run it by hand as the user observer runs as to see why)",
                new ResponseCode(ResponseCodeKind.Unavailable, "UNAVAILABLE"));
        var secret = ((await output.ConfigureAwait(false)) ?? "").TrimEnd('\r');
        if (secret.Length == 0)
            throw new ImapAuthenticationException($"{setting} printed nothing for the {role}; it must print the password or token on its first line");
        return secret;
    }
}
