using Observer.Configuration;
using Observer.Mail;
using Observer.Replication;
using Observer.State;

namespace Observer;

/// <summary>Failures a user can act on: they are shown as one line, never as a stack trace.</summary>
public static class ObserverErrors
{
    public static bool IsUserFacing(Exception ex) =>
        ex is ImapException or StateException or StateUnavailableException or LeaseLostException or ConfigurationProblemException or ReplicationException or IOException
            or UnauthorizedAccessException or System.Net.Sockets.SocketException or TimeoutException or Polly.Timeout.TimeoutRejectedException;
}
