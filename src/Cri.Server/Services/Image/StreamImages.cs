using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    /// <summary>Images per message: keeps each response far below gRPC's default 4 MiB limit even with long tag lists.</summary>
    private const int StreamImagesBatch = 200;

    public override async Task StreamImages(StreamImagesRequest request, IServerStreamWriter<StreamImagesResponse> responseStream, ServerCallContext context)
    {
        var selected = await ImageMessages.SelectAsync(images, request.Filter, context.CancellationToken);
        await StreamPaging.WritePagesAsync(selected, batch => new StreamImagesResponse { Images = { batch.Select(ImageMessages.ToCri) } },
            responseStream, context.CancellationToken, StreamImagesBatch);
    }
}
