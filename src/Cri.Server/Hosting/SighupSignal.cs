using System.Runtime.InteropServices;

namespace Crisp.Server.Hosting;

/// <summary>
/// SIGHUP, caught from the first line of Main. Its default action ends the process, and `systemctl reload crisp`
/// or a configuration-management run may send it while crispd is still starting (recovery of many containers can
/// take minutes). A signal that arrives before the reload service runs is remembered and answered by one reload
/// once it does; after that service stops, signals are caught and dropped.
/// </summary>
public sealed class SighupSignal : IDisposable
{
    private readonly Lock _lock = new();
    private PosixSignalRegistration? _registration;
    private Action? _onSignal;
    private bool _pending;

    /// <summary>Catches SIGHUP from now on.</summary>
    public static SighupSignal Catch()
    {
        var signal = new SighupSignal();
        signal._registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            signal.Deliver();
        });
        return signal;
    }

    /// <summary>One SIGHUP: handed to the attached receiver, or remembered until one attaches.</summary>
    public void Deliver()
    {
        Action? receiver;
        lock (_lock)
        {
            receiver = _onSignal;
            if (receiver is null) _pending = true;
        }
        receiver?.Invoke();
    }

    /// <summary>Routes every later SIGHUP to <paramref name="onSignal"/>; true when one arrived before, which is then the caller's to answer.</summary>
    public bool Attach(Action onSignal)
    {
        lock (_lock)
        {
            _onSignal = onSignal;
            var arrivedBefore = _pending;
            _pending = false;
            return arrivedBefore;
        }
    }

    /// <summary>Later signals are caught and dropped (crispd is stopping).</summary>
    public void Detach()
    {
        lock (_lock) _onSignal = null;
    }

    public void Dispose() => _registration?.Dispose();
}
