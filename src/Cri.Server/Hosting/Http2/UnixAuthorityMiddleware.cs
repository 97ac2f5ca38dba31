using System.IO.Pipelines;
using Crisp.Server.Limits;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Crisp.Server.Hosting.Http2;

/// <summary>
/// Kestrel connection middleware for the CRI socket: Kestrel reads the client's bytes through
/// <see cref="Http2AuthorityRewriter"/> (see there for why) until the rewriter hands the connection over, then
/// straight from the socket (<see cref="HandoffPipeReader"/>); responses always go straight out.
/// </summary>
public static class UnixAuthorityMiddleware
{
    public static ConnectionDelegate Wrap(ConnectionDelegate next, ILogger logger) => async connection =>
    {
        var original = connection.Transport;
        var rewritten = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var rewriter = new Http2AuthorityRewriter();
        var input = new HandoffPipeReader(rewritten.Reader, original.Input, () => rewriter.PassingThrough);
        connection.Transport = new DuplexPipe(input, original.Output);
        var pump = PumpAsync(rewriter, original.Input, rewritten.Writer, logger);
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = original;
            if (!rewriter.PassingThrough) original.Input.CancelPendingRead();
            input.Complete();
            await pump;
        }
    };

    private static async Task PumpAsync(Http2AuthorityRewriter rewriter, PipeReader input, PipeWriter output, ILogger logger)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                if (result.IsCanceled) break;
                var consumed = rewriter.Process(result.Buffer, output);
                // After a handoff the bytes past the first header block are Kestrel's, unexamined: its first read of
                // the socket must return them at once.
                if (rewriter.PassingThrough) input.AdvanceTo(consumed);
                else input.AdvanceTo(consumed, result.Buffer.End);
                var flush = await output.FlushAsync();
                if (rewriter.PassingThrough || flush.IsCompleted || result.IsCompleted) break;
            }
        }
        catch (ClientLimitExceededException e)
        {
            LimitLog.Exceeded(logger, e.Limit, e.Value, e.Detail);
            failure = e;
        }
        catch (Exception e)
        {
            // A malformed header block ends the connection, as a decoding error would in Kestrel.
            failure = e;
        }
        // Completing after a handoff is what lets HandoffPipeReader switch once Kestrel has drained the pipe.
        await output.CompleteAsync(failure);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
