using System.IO.Pipelines;

namespace Crisp.Server.Hosting.Http2;

/// <summary>
/// What Kestrel reads a CRI connection through: the rewritten pipe <see cref="UnixAuthorityMiddleware"/> fills
/// while header blocks still need looking at, then the socket's own reader, untouched, once the rewriter has handed
/// the connection over (<see cref="Http2AuthorityRewriter.PassingThrough"/>).
/// <para>
/// The switch needs no copy and no frame parsing because the rewritten pipe ends on a frame boundary: Kestrel's
/// HTTP/2 loop consumes every whole frame it is given, so it drains the first pipe completely, and the rest of the
/// connection starts at the next frame in the socket's reader. The first pipe's completion is hidden from Kestrel
/// while a handoff is pending: to Kestrel it is one connection that has not ended.
/// </para>
/// </summary>
internal sealed class HandoffPipeReader(PipeReader first, PipeReader then, Func<bool> handedOff) : PipeReader
{
    private bool _switched;

    private PipeReader Current => _switched ? then : first;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (!_switched)
        {
            var result = await first.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (!TryHandOff(ref result)) return result;
        }
        return await then.ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    public override bool TryRead(out ReadResult result)
    {
        while (!_switched)
        {
            if (!first.TryRead(out result)) return false;
            if (!TryHandOff(ref result)) return true;
        }
        return then.TryRead(out result);
    }

    /// <summary>
    /// False when <paramref name="result"/> is for Kestrel (its completion masked while a handoff is pending);
    /// true when the first pipe is drained and handed off: the caller reads from the socket instead.
    /// </summary>
    private bool TryHandOff(ref ReadResult result)
    {
        if (!result.IsCompleted || !handedOff()) return false;
        if (!result.Buffer.IsEmpty)
        {
            result = new ReadResult(result.Buffer, result.IsCanceled, isCompleted: false);
            return false;
        }
        first.AdvanceTo(result.Buffer.End);
        first.Complete();
        _switched = true;
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => Current.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => Current.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => Current.CancelPendingRead();

    /// <summary>Completes the first pipe (if still in use) only: the socket's reader belongs to the connection.</summary>
    public override void Complete(Exception? exception = null)
    {
        if (!_switched) first.Complete(exception);
    }
}
