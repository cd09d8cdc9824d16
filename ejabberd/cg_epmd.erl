%% Erlang distribution without epmd for the nodes of a cloudgate ejabberd cluster
%% (kernel's -epmd_module). Each node listens on its own distribution port
%% (-cg_dist_port); another node's port is read from the peers file (-cg_peers, lines
%% of {"name", Port}.), and a node it does not name is taken to use the same port as
%% this one: the case of one node per host, as kernel's -erl_epmd_port assumes. Two
%% nodes on one machine thus need no epmd, and no daemon outlives them.
-module(cg_epmd).
-export([start_link/0, register_node/2, register_node/3, listen_port_please/2,
         port_please/2, port_please/3, address_please/3, names/0, names/1]).

start_link() -> ignore.

register_node(Name, Port) -> register_node(Name, Port, inet).
%% A fresh creation on each start, so peers tell a restarted node from its last life.
register_node(_Name, _Port, _Family) -> {ok, rand:uniform(16#fffffff0) + 3}.

listen_port_please(_Name, _Host) -> {ok, own_port()}.

port_please(Name, Host) -> port_please(Name, Host, infinity).
port_please(Name, _Host, _Timeout) -> {port, port_of(Name), 6}.

%% With the port in the answer, the distribution skips port_please (distribution version 6).
address_please(Name, Host, Family) ->
    case inet:getaddr(Host, Family) of
        {ok, Ip} -> {ok, Ip, port_of(Name), 6};
        Err -> Err
    end.

names() -> {error, address}.
names(_Host) -> {error, address}.

own_port() ->
    {ok, [[P | _] | _]} = init:get_argument(cg_dist_port),
    list_to_integer(P).

port_of(Name) ->
    Key = to_list(Name),
    case init:get_argument(cg_peers) of
        {ok, [[File | _] | _]} ->
            case file:consult(File) of
                {ok, Terms} ->
                    case [P || {N, P} <- Terms, to_list(N) =:= Key, is_integer(P)] of
                        [P | _] -> P;
                        [] -> own_port()
                    end;
                _ -> own_port()
            end;
        _ -> own_port()
    end.

to_list(A) when is_atom(A) -> atom_to_list(A);
to_list(B) when is_binary(B) -> binary_to_list(B);
to_list(L) -> L.
