using Grpc.Core;

namespace Crisp.Server.Services;

/// <summary>
/// How the Stream* list RPCs send a result: in pages, so a node with many pods, containers or images
/// never produces a message near the gRPC size limit.
/// </summary>
internal static class StreamPaging
{
    public const int DefaultPageSize = 100;

    public static async Task WritePagesAsync<TItem, TResponse>(
        IEnumerable<TItem> items, Func<TItem[], TResponse> toResponse, IServerStreamWriter<TResponse> stream,
        CancellationToken cancellationToken, int pageSize = DefaultPageSize)
    {
        foreach (var page in items.Chunk(pageSize))
            await stream.WriteAsync(toResponse(page), cancellationToken);
    }
}
