using System.IO.Pipelines;
using Crisp.Server.Limits;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Crisp.Server.Hosting.Http2;

/// <summary>
/// Kestrel connection middleware for the CRI socket: Kestrel reads the client's bytes through
/// <see cref="Http2AuthorityRewriter"/> (see there for why); responses go straight out.
/// </summary>
public static class UnixAuthorityMiddleware
{
    public static ConnectionDelegate Wrap(ConnectionDelegate next, ILogger logger) => async connection =>
    {
        var original = connection.Transport;
        var rewritten = new Pipe(new PipeOptions(useSynchronizationContext: false));
        connection.Transport = new DuplexPipe(rewritten.Reader, original.Output);
        var pump = PumpAsync(original.Input, rewritten.Writer, logger);
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = original;
            original.Input.CancelPendingRead();
            await rewritten.Reader.CompleteAsync();
            await pump;
        }
    };

    private static async Task PumpAsync(PipeReader input, PipeWriter output, ILogger logger)
    {
        var rewriter = new Http2AuthorityRewriter();
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                if (result.IsCanceled) break;
                var consumed = rewriter.Process(result.Buffer, output);
                input.AdvanceTo(consumed, result.Buffer.End);
                var flush = await output.FlushAsync();
                if (flush.IsCompleted || result.IsCompleted) break;
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
        await output.CompleteAsync(failure);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
