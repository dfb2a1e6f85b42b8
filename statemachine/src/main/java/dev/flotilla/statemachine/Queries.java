package dev.flotilla.statemachine;

import dev.flotilla.proto.ListVms;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;

/** Answers read queries from the store; a read changes nothing. */
public final class Queries {
    private Queries() {}

    public static QueryResult answer(RegistryStore store, Query query) {
        QueryResult.Builder out = QueryResult.newBuilder();
        RegistryStore.AppliedIndex applied = store.applied();
        out.setAppliedIndex(applied.index()).setAppliedTerm(applied.term());
        switch (query.getKindCase()) {
            case GET_VM -> {
                String id = query.getGetVm().getJobId();
                store.vm(id).ifPresentOrElse(out::addVms, () -> out.setRejection(
                        Reject.notFound("job_id", "no VM with job id '" + Ids.printable(id) + "'; list VMs to see the ids")));
            }
            case LIST_VMS -> {
                ListVms q = query.getListVms();
                out.addAllVms(q.getWarmOnly() ? store.listWarmVms() : store.listVms(q.getTenant(), q.getNode(), q.getRuntime(), q.getControlled()));
            }
            case LIST_NODES -> out.addAllNodes(store.listNodes());
            case GET_DIGEST -> {
                StateDigest d = store.digest();
                out.setDigest(d.digest()).setAppliedIndex(d.appliedIndex()).setAppliedTerm(d.appliedTerm());
            }
            case GET_FILES -> {
                String id = query.getGetFiles().getJobId();
                if (store.vm(id).isEmpty()) {
                    out.setRejection(Reject.notFound("job_id", "no VM with job id '" + Ids.printable(id) + "'"));
                } else {
                    out.addAllFiles(store.fileList(id));
                }
            }
            default -> out.setRejection(Reject.invalid("kind", "the query asks nothing; set one of get_vm, list_vms,"
                    + " list_nodes, get_digest, get_files"));
        }
        return out.build();
    }
}
