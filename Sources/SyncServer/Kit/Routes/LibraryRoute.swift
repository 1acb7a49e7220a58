import HTTPTypes
import Hummingbird
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// `GET /v1/libraries/{library}`: what the server holds. After an epoch change a client
/// compares `replicas` (highest counter held per replica) with its own log and re-pushes.
struct LibraryRoute {
    let store: any ServerStore

    func handle(_ request: Request, context: SyncRequestContext) async throws -> Response {
        guard let library = context.parameters.get("library"),
            let summary = try await store.summary(library: library)
        else {
            throw APIError(.forbidden, "this device is not enrolled for that library")
        }
        var response = Response.json(summary)
        response.headers[.epoch] = summary.epoch
        return response
    }
}
